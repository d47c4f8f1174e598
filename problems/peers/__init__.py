"""The peers physode's models are compared with, as a library: neuraloperator's FNO in three forms
(``fno`` direct, ``fno-time`` time-conditioned, ``fno-ar`` autoregressive) trained as FNO's users train
it, and the ``zero`` and ``persistence`` reference predictors. ``physode compare`` and the PDE
benchmark both fit them through :func:`fit_peer` on the split ``physode fit`` uses (:class:`PeerData`).

neuraloperator is imported only when an FNO peer is fit (``pip install 'physode[bench]'``).
"""

from physode.problems.peers.data import PeerData
from physode.problems.peers.fit import PEERS, Peer, PeerFit, fit_peer
from physode.problems.peers.training import Schedule

__all__ = ["PEERS", "Peer", "PeerData", "PeerFit", "Schedule", "fit_peer"]
