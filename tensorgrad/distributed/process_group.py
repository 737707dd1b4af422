"""Process groups: ``init_process_group`` (the default group, over all MPI
processes), ``new_group``, ``destroy_process_group`` and the rank / size
queries, with PyTorch's names and errors."""
import importlib.util
import os

from ._types import Backend

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


class ProcessGroup:
    """A set of ranks that run collectives together. ``rank()`` / ``size()``
    are this process's rank in the group and the group's size; ``ranks`` the
    members' global ranks, in group-rank order."""

    def __init__(self, impl, ranks, backend, name=''):
        self._impl = impl  # an MPIComm or NCCLComm
        self.ranks = list(ranks)
        self._backend = Backend(backend)
        self.group_name = name

    def rank(self):
        """This process's rank within the group."""
        return self._impl.rank

    def size(self):
        """The number of ranks in the group."""
        return self._impl.size

    def name(self):
        """The backend's name."""
        return str(self._backend)

    def group_rank(self, global_rank, who, what='rank'):
        """The group rank of ``global_rank``; ValueError naming ``who`` when it is not a member."""
        try:
            return self.ranks.index(int(global_rank))
        except ValueError:
            raise ValueError(f"{who}: {what} {global_rank} is not part of the group (its ranks are "
                             f"{self.ranks})") from None

    def __repr__(self):
        return f'ProcessGroup(backend={self._backend!r}, ranks={self.ranks}, rank={self.rank()})'


class _NonMember:
    """What ``new_group`` returns on ranks outside the new group (PyTorch's ``GroupMember.NON_GROUP_MEMBER``)."""

    def __repr__(self):
        return 'GroupMember.NON_GROUP_MEMBER'


NON_GROUP_MEMBER = _NonMember()


class _State:
    def __init__(self):
        self.world = None
        self.groups = []


_STATE = _State()


class _World:
    """``GroupMember.WORLD`` / ``group.WORLD``: the default process group (None before ``init_process_group``)."""
    NON_GROUP_MEMBER = NON_GROUP_MEMBER

    @property
    def WORLD(self):  # noqa: N802 - PyTorch's name
        """The default process group, or None."""
        return _STATE.world


GroupMember = group = _World()


def is_available():
    """Whether the distributed package can run here: mpi4py is installed
    (``pip install 'tensorgrad[distributed]'``). Does not import it."""
    return is_mpi_available()


def is_mpi_available():
    """Whether mpi4py is installed (without importing it)."""
    return importlib.util.find_spec('mpi4py') is not None


def is_nccl_available():
    """Whether CuPy (which carries the NCCL bindings) and mpi4py are installed (without importing them)."""
    return importlib.util.find_spec('cupy') is not None and is_mpi_available()


def is_gloo_available():
    """False: tensorgrad has no Gloo; ``backend='gloo'`` runs on MPI."""
    return False


def is_initialized():
    """Whether ``init_process_group`` has run (and no ``destroy_process_group`` since)."""
    return _STATE.world is not None


def _backend_name(backend, who):
    if backend is None:
        return Backend.MPI
    if not isinstance(backend, str):
        raise TypeError(f"{who}: backend must be a string such as 'mpi' or 'nccl', got {type(backend).__name__}")
    name = backend.lower()
    if ':' in name:  # 'cpu:gloo,cuda:nccl': CPU tensors always go through MPI here
        name = Backend.NCCL if 'nccl' in name else Backend.MPI
    if name in (Backend.MPI, Backend.GLOO):
        return Backend.MPI
    if name == Backend.NCCL:
        return Backend.NCCL
    raise ValueError(f"{who}: unknown backend {backend!r}; tensorgrad has 'mpi' ('gloo' is run on MPI) and 'nccl'")


def _make_impl(mpi_comm, backend):
    if backend == Backend.NCCL:
        from ._nccl import NCCLComm  # noqa: PLC0415 - needs CuPy
        return NCCLComm(mpi_comm)
    return mpi_comm


def _env_int(name):
    value = os.environ.get(name, '').strip()
    return int(value) if value else None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name='', pg_options=None, device_id=None):
    """Create the default process group over all processes of the MPI job
    (launch with ``python -m tensorgrad.distributed.run --nproc-per-node N
    script.py`` or the environment's ``mpiexec -n N``). ``backend``: 'mpi'
    (default; 'gloo' is an alias), 'nccl' (CuPy arrays over NCCL, the rest
    over MPI). Rank and world size come from MPI; ``rank`` / ``world_size`` (or
    the ``RANK`` / ``WORLD_SIZE`` variables) are checked against them.
    ``init_method``, ``timeout``, ``store`` and ``pg_options`` are accepted and unused."""
    who = 'init_process_group'
    if _STATE.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = _backend_name(backend, who)
    from ._mpi import MPIComm, load_mpi  # noqa: PLC0415 - mpi4py loads here, never at import
    MPI = load_mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    want_size = world_size if world_size is not None and world_size != -1 else _env_int('WORLD_SIZE')
    want_rank = rank if rank is not None and rank != -1 else _env_int('RANK')
    if want_size is not None and want_size != size:
        raise ValueError(f"{who}: world_size {want_size} but this MPI job has {size} process(es); start the "
                         f"processes with `python -m tensorgrad.distributed.run --nproc-per-node {want_size} ...` "
                         f"(or the environment's mpiexec -n {want_size})")
    if want_rank is not None and want_rank != me:
        raise ValueError(f"{who}: rank {want_rank} but MPI gives this process rank {me}")
    impl = _make_impl(MPIComm(world.Dup()), name)
    _STATE.world = ProcessGroup(impl, range(size), name, group_name)


def _default_group(who=None):
    if _STATE.world is None:
        raise ValueError(_NOT_INITIALIZED)
    return _STATE.world


def resolve_group(group, who):
    """The ProcessGroup for ``group`` (None: the default one), or None when this rank is not a member."""
    world = _default_group(who)
    if group is None:
        return world
    if group is NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{who}: group must be a ProcessGroup from new_group (or None), got {type(group).__name__}")
    if group._impl is None:
        raise ValueError(f"{who}: the process group was destroyed")
    return group


def get_rank(group=None):
    """This process's rank in ``group`` (default: the world); -1 when it is not a member."""
    pg = resolve_group(group, 'get_rank')
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    """The number of processes in ``group`` (default: the world); -1 when this rank is not a member."""
    pg = resolve_group(group, 'get_world_size')
    return -1 if pg is None else pg.size()


def get_backend(group=None):
    """The backend of ``group`` (default: the world), e.g. ``'mpi'``."""
    pg = resolve_group(group, 'get_backend')
    if pg is None:
        raise ValueError("get_backend: invalid process group specified (this rank is not a member)")
    return pg._backend


def get_node_local_rank(fallback_rank=None):
    """The rank of this process on its node: ``LOCAL_RANK`` (set by
    ``tensorgrad.distributed.run``), else ``fallback_rank``, else RuntimeError."""
    if 'LOCAL_RANK' in os.environ:
        return int(os.environ['LOCAL_RANK'])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A process group of the global ``ranks`` (default: all), in sorted
    order. Every process of the world must call it (it is collective); ranks
    outside the group get ``GroupMember.NON_GROUP_MEMBER``."""
    who = 'new_group'
    world = _default_group(who)
    n = world.size()
    members = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(members)) != len(members):
        raise ValueError(f"{who}: ranks {list(ranks)} contain duplicates")
    bad = [r for r in members if not 0 <= r < n]
    if bad:
        raise ValueError(f"{who}: ranks {bad} are outside the world of size {n}")
    name = world._backend if backend is None else _backend_name(backend, who)
    base = world._impl.mpi if hasattr(world._impl, 'mpi') else world._impl
    sub = base.split(members)
    if sub is None:
        return NON_GROUP_MEMBER
    pg = ProcessGroup(_make_impl(sub, name), members, name, group_desc or '')
    _STATE.groups.append(pg)
    return pg


def destroy_process_group(group=None):
    """Release ``group``, or (None) every group and the default one; afterwards
    ``is_initialized()`` is False and ``init_process_group`` may run again."""
    if group is None:
        for pg in _STATE.groups + ([_STATE.world] if _STATE.world is not None else []):
            if pg._impl is not None:
                pg._impl.free()
                pg._impl = None
        _STATE.groups = []
        _STATE.world = None
        return
    if group is NON_GROUP_MEMBER:
        return
    if group is _STATE.world:
        destroy_process_group(None)
        return
    if isinstance(group, ProcessGroup) and group._impl is not None:
        group._impl.free()
        group._impl = None
        if group in _STATE.groups:
            _STATE.groups.remove(group)
