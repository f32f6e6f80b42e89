"""Plugins shipped with this repository. The host finds them through the ``host.plugins`` entry points."""
