"""The composition root: the only package that names the services.

It lists them (``booster.platform``), assembles the event catalogue
(``booster.catalogue``), wires a service's runtime, app and worker
(``booster.bootstrap``), and holds the operator's CLI and the demo-data loader.
"""
