"""sdo-overlap: find ITU-T / ISO / IEC work that needs coordination (WTSA Resolution 7).

Data flows one way::

    sources -> snapshot -> items -> enrich -> embed -> match + areas -> rank -> export

Each stage is a module of this package with a narrow interface; ``pipeline.run`` wires them.
"""

__version__ = "0.1.0"
