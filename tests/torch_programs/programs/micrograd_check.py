"""The scalar sanity checks micrograd-style engines compare against PyTorch:
``torch.Tensor([...]).double()`` leaves, ``requires_grad`` set afterwards,
in-place ``+=`` on intermediate results, relu, powers, reflected operators."""
import torch


def simple():
    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return {'y': y.data.item(), 'x_grad': x.grad.item(), 'x_dtype_is_double': x.dtype == torch.float64}


def more_ops():
    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return {'g': g.data.item(), 'a_grad': a.grad.item(), 'b_grad': b.grad.item()}


def in_place():
    a = torch.tensor([-4.0, 1.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    c = a + b
    c += c + 1
    c += 1 + c + (-a)
    d = a * b + b ** 3
    d *= 2
    d -= (b - a).relu()
    out = (c * d).sum() / 3
    out.backward()
    return {'out': out.item(), 'a_grad': a.grad, 'b_grad': b.grad}


def neuron():
    """A two-input tanh neuron with per-sample gradients through torch.autograd.grad."""
    w = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    xs = torch.tensor([[2.0, 3.0], [-1.0, 0.5], [0.5, -1.0]], dtype=torch.float64)
    ys = torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    preds = torch.tanh(xs @ w + bias)
    loss = ((preds - ys) ** 2).sum()
    gw, gb = torch.autograd.grad(loss, [w, bias])
    return {'loss': loss.item(), 'gw': gw, 'gb': gb, 'preds': preds.detach()}


def main():
    return {'simple': simple(), 'more_ops': more_ops(), 'in_place': in_place(), 'neuron': neuron()}
