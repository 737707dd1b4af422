"""MyGrad's reciprocal trigonometric and hyperbolic functions and their
inverses: ``cot``, ``csc``, ``sec``, ``arccot``, ``arccsc``, ``arcsec``,
``coth``, ``csch``, ``sech``, ``arccoth``, ``arccsch`` (differentiable)."""
from .elementwise import unary_op


def _u(name, fwd, grad, doc):
    return unary_op(name, fwd, grad, doc=doc)


cot = _u('cot', lambda xp, x: 1 / xp.tan(x), lambda xp, g, x, y: -g / xp.sin(x) ** 2, "Elementwise cotangent.")
csc = _u('csc', lambda xp, x: 1 / xp.sin(x), lambda xp, g, x, y: -g * xp.cos(x) / xp.sin(x) ** 2,
         "Elementwise cosecant ``1 / sin(x)``.")
sec = _u('sec', lambda xp, x: 1 / xp.cos(x), lambda xp, g, x, y: g * xp.sin(x) / xp.cos(x) ** 2,
         "Elementwise secant ``1 / cos(x)``.")
arccot = _u('arccot', lambda xp, x: xp.arctan(1 / x), lambda xp, g, x, y: -g / (1 + x * x),
            "Elementwise inverse cotangent ``arctan(1 / x)``.")
arccsc = _u('arccsc', lambda xp, x: xp.arcsin(1 / x),
            lambda xp, g, x, y: -g / (xp.abs(x) * xp.sqrt(x * x - 1)),
            "Elementwise inverse cosecant ``arcsin(1 / x)``.")
arcsec = _u('arcsec', lambda xp, x: xp.arccos(1 / x),
            lambda xp, g, x, y: g / (xp.abs(x) * xp.sqrt(x * x - 1)),
            "Elementwise inverse secant ``arccos(1 / x)``.")
coth = _u('coth', lambda xp, x: 1 / xp.tanh(x), lambda xp, g, x, y: -g / xp.sinh(x) ** 2,
          "Elementwise hyperbolic cotangent.")
csch = _u('csch', lambda xp, x: 1 / xp.sinh(x), lambda xp, g, x, y: -g * xp.cosh(x) / xp.sinh(x) ** 2,
          "Elementwise hyperbolic cosecant ``1 / sinh(x)``.")
sech = _u('sech', lambda xp, x: 1 / xp.cosh(x), lambda xp, g, x, y: -g * xp.sinh(x) / xp.cosh(x) ** 2,
          "Elementwise hyperbolic secant ``1 / cosh(x)``.")
arccoth = _u('arccoth', lambda xp, x: xp.arctanh(1 / x), lambda xp, g, x, y: g / (1 - x * x),
             "Elementwise inverse hyperbolic cotangent ``arctanh(1 / x)``.")
arccsch = _u('arccsch', lambda xp, x: xp.arcsinh(1 / x),
             lambda xp, g, x, y: -g / (xp.abs(x) * xp.sqrt(1 + x * x)),
             "Elementwise inverse hyperbolic cosecant ``arcsinh(1 / x)``.")

EXPORTS = ('cot', 'csc', 'sec', 'arccot', 'arccsc', 'arcsec', 'coth', 'csch', 'sech', 'arccoth', 'arccsch')
