"""physode: coupled neural ODEs (ANODEV2) for learning physics."""

__version__ = "0.1.0"

from physode.integrate import odeint  # noqa: E402

__all__ = ["__version__", "odeint"]
