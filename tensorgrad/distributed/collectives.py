"""The collectives on tensors (PyTorch's ``torch.distributed`` functions):
they validate their arguments, then call the group's backend on the tensors'
arrays, in place. A non-contiguous tensor is gathered into a contiguous copy
and written back. Source / destination ranks are global ranks (``group_src``
/ ``group_dst``: ranks within ``group``). ``async_op=True`` returns a
completed ``Work``."""
from .. import backend as _backend
from .._tensor import Tensor
from ._mpi import check_reduce_op
from ._types import ReduceOp, Work, as_reduce_op
from .process_group import resolve_group


def _array(who, t, what='tensor'):
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: {what} must be a tensorgrad Tensor, got {type(t).__name__}")
    return t._data


def _contiguous(arr):
    if arr.flags.c_contiguous:
        return arr
    return _backend.array_module(arr).ascontiguousarray(arr)


def _store(t, buf):
    """Make ``buf`` (the result of a collective) the content of ``t``, in place."""
    if buf is not t._data:
        t._data[...] = buf
    t._vc[0] += 1


def _done(async_op, tensors=()):
    return Work(tensors) if async_op else None


def _root(pg, who, rank, group_rank, what):
    if group_rank is not None:
        if rank is not None:
            raise ValueError(f"{who}: give either {what} or group_{what}, not both")
        if not 0 <= int(group_rank) < pg.size():
            raise ValueError(f"{who}: group_{what} {group_rank} is outside the group of size {pg.size()}")
        return int(group_rank)
    return pg.group_rank(0 if rank is None else rank, who, what)


def _same(who, arrays, like, what):
    for i, a in enumerate(arrays):
        if a.shape != like.shape or a.dtype != like.dtype:
            raise ValueError(f"{who}: {what}[{i}] has shape {tuple(a.shape)} and dtype {a.dtype}, expected "
                             f"shape {tuple(like.shape)} and dtype {like.dtype} (those of the input tensor)")


def _check_device(who, *arrays):
    kinds = {type(a) for a in arrays}
    if len(kinds) > 1:
        raise ValueError(f"{who}: all tensors must be on the same device")


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over the ranks of ``group`` with ``op``; every rank ends with the result, in place."""
    who = 'all_reduce'
    arr = _array(who, tensor)
    red = as_reduce_op(op, who)
    check_reduce_op(red, arr.dtype, who)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    buf = _contiguous(arr)
    pg._impl.allreduce(buf, red)
    _store(tensor, buf)
    return _done(async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over the ranks with ``op``; only rank ``dst`` receives the result (in place)."""
    who = 'reduce'
    arr = _array(who, tensor)
    red = as_reduce_op(op, who)
    check_reduce_op(red, arr.dtype, who)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    root = _root(pg, who, dst, group_dst, 'dst')
    buf = _contiguous(arr)
    pg._impl.reduce(buf, root, red)
    if pg.rank() == root:
        _store(tensor, buf)
    return _done(async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank (same shape and dtype everywhere)."""
    who = 'broadcast'
    arr = _array(who, tensor)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    root = _root(pg, who, src, group_src, 'src')
    buf = _contiguous(arr)
    pg._impl.broadcast(buf, root)
    if pg.rank() != root:
        _store(tensor, buf)
    return _done(async_op, [tensor])


def _stacked_output(who, out, inp, n, what_out, what_in):
    if out.dtype != inp.dtype:
        raise TypeError(f"{who}: {what_out} has dtype {out.dtype} but {what_in} has dtype {inp.dtype}")
    if out.size != n * inp.size:
        raise ValueError(f"{who}: {what_out} of shape {tuple(out.shape)} must hold world_size ({n}) times the "
                         f"{inp.size} elements of {what_in} of shape {tuple(inp.shape)}")


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor``, in rank order, into ``output_tensor``
    (shape ``(world_size * n, ...)`` or ``(world_size, *input.shape)``)."""
    who = 'all_gather_into_tensor'
    out, inp = _array(who, output_tensor, 'output_tensor'), _array(who, input_tensor, 'input_tensor')
    _check_device(who, out, inp)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    _stacked_output(who, out, inp, pg.size(), 'output_tensor', 'input_tensor')
    buf = _contiguous(out)
    pg._impl.allgather(_contiguous(inp), buf)
    _store(output_tensor, buf)
    return _done(async_op, [output_tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[i]`` receives rank i's ``tensor`` (all the same shape and dtype)."""
    who = 'all_gather'
    arr = _array(who, tensor)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    n = pg.size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        raise ValueError(f"{who}: tensor_list must be a list of world_size ({n}) tensors, got {got}")
    outs = [_array(who, t, f'tensor_list[{i}]') for i, t in enumerate(tensor_list)]
    _same(who, outs, arr, 'tensor_list')
    _check_device(who, arr, *outs)
    xp = _backend.array_module(arr)
    recv = xp.empty((n,) + arr.shape, dtype=arr.dtype)
    pg._impl.allgather(_contiguous(arr), recv)
    for t, part in zip(tensor_list, recv):
        _store(t, part)
    return _done(async_op, tensor_list)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (world_size equal blocks along dim 0, or shape
    ``(world_size, *output.shape)``) over the ranks; rank i's ``output`` gets block i."""
    who = 'reduce_scatter_tensor'
    out, inp = _array(who, output, 'output'), _array(who, input, 'input')
    _check_device(who, out, inp)
    red = as_reduce_op(op, who)
    check_reduce_op(red, inp.dtype, who)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    _stacked_output(who, inp, out, pg.size(), 'input', 'output')
    buf = _contiguous(out)
    pg._impl.reduce_scatter(_contiguous(inp), buf, red)
    _store(output, buf)
    return _done(async_op, [output])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank ``dst``'s ``gather_list[i]`` receives rank i's ``tensor``; other ranks pass no list."""
    who = 'gather'
    arr = _array(who, tensor)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    root = _root(pg, who, dst, group_dst, 'dst')
    n = pg.size()
    if pg.rank() == root:
        if not isinstance(gather_list, (list, tuple)) or len(gather_list) != n:
            raise ValueError(f"{who}: on the destination rank gather_list must be a list of world_size ({n}) "
                             f"tensors")
        outs = [_array(who, t, f'gather_list[{i}]') for i, t in enumerate(gather_list)]
        _same(who, outs, arr, 'gather_list')
        recv = _backend.array_module(arr).empty((n,) + arr.shape, dtype=arr.dtype)
        pg._impl.gather(_contiguous(arr), recv, root)
        for t, part in zip(gather_list, recv):
            _store(t, part)
        return _done(async_op, gather_list)
    if gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    pg._impl.gather(_contiguous(arr), None, root)
    return _done(async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank i's ``tensor`` receives ``scatter_list[i]`` of rank ``src``; other ranks pass no list."""
    who = 'scatter'
    arr = _array(who, tensor)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    root = _root(pg, who, src, group_src, 'src')
    n = pg.size()
    send = None
    if pg.rank() == root:
        if not isinstance(scatter_list, (list, tuple)) or len(scatter_list) != n:
            raise ValueError(f"{who}: on the source rank scatter_list must be a list of world_size ({n}) tensors")
        ins = [_array(who, t, f'scatter_list[{i}]') for i, t in enumerate(scatter_list)]
        _same(who, ins, arr, 'scatter_list')
        send = _backend.array_module(arr).stack(ins) if n else None
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    buf = _contiguous(arr)
    pg._impl.scatter(send, buf, root)
    _store(tensor, buf)
    return _done(async_op, [tensor])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` (blocking until it is buffered or received)."""
    who = 'send'
    arr = _array(who, tensor)
    pg = resolve_group(group, who)
    if pg is None:
        return None
    peer = _root(pg, who, dst, group_dst, 'dst')
    if peer == pg.rank():
        raise ValueError(f"{who}: cannot send to itself (rank {dst})")
    pg._impl.send(_contiguous(arr), peer, int(tag))
    return None


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (None: any rank); returns the sender's global rank."""
    who = 'recv'
    arr = _array(who, tensor)
    pg = resolve_group(group, who)
    if pg is None:
        return -1
    peer = None if src is None and group_src is None else _root(pg, who, src, group_src, 'src')
    buf = _contiguous(arr)
    got = pg._impl.recv(buf, peer, int(tag))
    _store(tensor, buf)
    return pg.ranks[got]


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of ``group`` has reached the barrier."""
    pg = resolve_group(group, 'barrier')
    if pg is None:
        return None
    pg._impl.barrier()
    return _done(async_op)


def all_gather_object(object_list, obj, group=None):
    """``object_list[i]`` becomes rank i's (picklable) ``obj``."""
    who = 'all_gather_object'
    pg = resolve_group(group, who)
    if pg is None:
        return None
    if not isinstance(object_list, list) or len(object_list) != pg.size():
        raise ValueError(f"{who}: object_list must be a list of world_size ({pg.size()}) entries")
    object_list[:] = pg._impl.allgather_object(obj)
    return None


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the entries of ``object_list`` with those of rank ``src``'s list (same length everywhere)."""
    who = 'broadcast_object_list'
    pg = resolve_group(group, who)
    if pg is None:
        return None
    if not isinstance(object_list, list):
        raise TypeError(f"{who}: object_list must be a list, got {type(object_list).__name__}")
    root = _root(pg, who, src, group_src, 'src')
    got = pg._impl.bcast_object(list(object_list) if pg.rank() == root else None, root)
    if len(got) != len(object_list):
        raise ValueError(f"{who}: object_list has {len(object_list)} entries here but {len(got)} on rank {src}")
    object_list[:] = got
    return None


def _all_reduce_array(arr, op=ReduceOp.SUM, group=None):
    """All-reduce a raw contiguous array in place (library use: DDP, SyncBatchNorm)."""
    pg = resolve_group(group, 'all_reduce')
    if pg is not None:
        pg._impl.allreduce(arr, op)


def _broadcast_array(arr, src=0, group=None):
    """Broadcast a raw array in place from global rank ``src`` (library use); it may be non-contiguous."""
    pg = resolve_group(group, 'broadcast')
    if pg is None:
        return
    buf = _contiguous(arr)
    pg._impl.broadcast(buf, pg.group_rank(src, 'broadcast', 'src'))
    if buf is not arr:
        arr[...] = buf


__all__ = ['all_gather', 'all_gather_into_tensor', 'all_gather_object', 'all_reduce', 'barrier', 'broadcast',
           'broadcast_object_list', 'gather', 'recv', 'reduce', 'reduce_scatter_tensor', 'scatter', 'send']
