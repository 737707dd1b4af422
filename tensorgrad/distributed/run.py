"""Launch a training script on N processes (PyTorch's ``torchrun``), over MPI::

    python -m tensorgrad.distributed.run --nproc-per-node N script.py [args ...]
    python -m tensorgrad.distributed.run --nproc-per-node N -m package.module [args ...]

Runs the ``mpiexec`` of this Python environment (a system ``mpiexec`` of
another MPI cannot start these processes), one BLAS / tensorgrad thread per
process unless ``OMP_NUM_THREADS`` etc. are already set. Each process gets
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``
and ``MASTER_PORT`` as under torchrun, and runs the script as ``python -m
mpi4py`` does: an uncaught exception in any process aborts the whole job
(within about a second) instead of leaving the others waiting.
"""
import argparse
import os
import shutil
import subprocess
import sys
import sysconfig

_THREAD_VARS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'TENSORGRAD_NUM_THREADS')
# (rank, size, local rank, local size) as MPICH (Hydra) and Open MPI set them in each process
_MPI_VARS = (('PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID', 'MPI_LOCALNRANKS'),
             ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK',
              'OMPI_COMM_WORLD_LOCAL_SIZE'))


def find_mpiexec():
    """The ``mpiexec`` of this Python environment (the MPICH wheel puts it next
    to the interpreter), else the one on PATH; RuntimeError when there is none."""
    for folder in (sysconfig.get_path('scripts'), os.path.dirname(sys.executable)):
        path = os.path.join(folder, 'mpiexec')
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    path = shutil.which('mpiexec')
    if path is None:
        raise RuntimeError("tensorgrad.distributed.run: no mpiexec found; "
                           "pip install 'tensorgrad[distributed]' (mpi4py and the MPICH wheel)")
    return path


_VALUED = ('--nproc-per-node', '--nproc_per_node', '--nnodes', '--mpiexec', '--threads-per-proc')


def _split(argv):
    """(launcher options, command): the command starts at ``-m`` or at the first word that is not an option."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '-m' or not a.startswith('-'):
            return argv[:i], argv[i:]
        i += 2 if a in _VALUED else 1
    return argv, []


def parse_args(argv):
    """The launcher's options and the command to run (``script args`` or ``-m module args``)."""
    p = argparse.ArgumentParser(prog='python -m tensorgrad.distributed.run',
                                usage='python -m tensorgrad.distributed.run [options] (script.py | -m module) [args]',
                                description='run a script on N processes over MPI (torchrun for tensorgrad)')
    p.add_argument('--nproc-per-node', '--nproc_per_node', type=int, default=1, dest='nproc',
                   help='number of processes (default 1)')
    p.add_argument('--nnodes', default='1', help='number of nodes: only 1 (for several nodes, run mpiexec with a '
                                                 'host file on `python -m tensorgrad.distributed.run --worker ...`)')
    p.add_argument('--standalone', action='store_true', help='accepted for torchrun compatibility (no effect)')
    p.add_argument('--mpiexec', default=None, help="the mpiexec to use (default: this environment's)")
    p.add_argument('--threads-per-proc', type=int, default=1,
                   help='BLAS and tensorgrad threads per process when not set in the environment (default 1)')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    options, command = _split(list(argv))
    args = p.parse_args(options)
    if command[:1] == ['-m']:
        if len(command) < 2:
            p.error('-m needs a module name')
        args.module, args.command = command[1], command[2:]
    else:
        args.module, args.command = None, command
    if args.module is None and not args.command:
        p.error('a script (or -m module) to run is required')
    if args.nproc < 1:
        p.error(f'--nproc-per-node must be at least 1, got {args.nproc}')
    if str(args.nnodes) not in ('1', '1:1'):
        p.error(f'--nnodes {args.nnodes}: the launcher starts processes on this node only')
    return args


def _target(args):
    return (['-m', args.module] if args.module is not None else []) + list(args.command)


def launch_command(args):
    """The mpiexec command line and the environment of the job."""
    env = dict(os.environ)
    for name in _THREAD_VARS:
        env.setdefault(name, str(args.threads_per_proc))
    env.setdefault('MASTER_ADDR', '127.0.0.1')
    env.setdefault('MASTER_PORT', '29500')
    cmd = [args.mpiexec or find_mpiexec(), '-n', str(args.nproc), sys.executable, '-m',
           'tensorgrad.distributed.run', '--worker'] + _target(args)
    return cmd, env


def _set_rank_env():
    for rank_var, size_var, local_var, local_size_var in _MPI_VARS:
        if rank_var in os.environ:
            rank, size = os.environ[rank_var], os.environ.get(size_var, '1')
            os.environ['RANK'], os.environ['WORLD_SIZE'] = rank, size
            os.environ['LOCAL_RANK'] = os.environ.get(local_var, rank)
            os.environ['LOCAL_WORLD_SIZE'] = os.environ.get(local_size_var, size)
            return
    os.environ.update(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', LOCAL_WORLD_SIZE='1')


def worker(target):
    """Inside one MPI process: set the torchrun variables, then run ``target``
    as ``python -m mpi4py`` does (an uncaught exception aborts the job)."""
    _set_rank_env()
    from mpi4py import MPI  # noqa: F401, PLC0415 - initialise MPI now, so that any failure can abort the job
    from mpi4py.run import run_command_line, set_abort_status  # noqa: PLC0415
    try:
        run_command_line(target)
    except SystemExit as e:
        set_abort_status(e)
        raise
    except KeyboardInterrupt as e:
        set_abort_status(e)
        raise
    except BaseException:
        set_abort_status(1)
        raise


def main(argv=None):
    """Parse the options and run the job; returns mpiexec's exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        worker(_target(args))
        return 0
    cmd, env = launch_command(args)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
