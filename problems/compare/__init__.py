"""``physode compare FILE``: physode's models and the peers (:mod:`physode.problems.peers`) fit on one
trajectory file with one split, one time budget and one metric code, reported as a table and plots.

- :mod:`.run`: :func:`~.run.compare`, the fits and their scores (:class:`~.run.Comparison`);
- :mod:`.report`: ``results.md``, ``results.json``, ``pareto.png``, ``prediction.png``;
- :mod:`.cli`: the command's parser (no torch at import: the command's run imports the rest).
"""
