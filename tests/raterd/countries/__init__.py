"""Shops from 35 countries, each with its postal address printed the way that country's post prints it.

:data:`SHOPS` maps each shop's domain to its :class:`~._shop.Shop` (pages,
expected letter, postcode and country); :data:`LAYOUTS` holds shops laid
out the hard ways (credits with a host's address, label/value tables).  ``test_countries.py`` serves them
on the loopback fixture server, rates each through the real pipeline and
prints a table per country.
"""

from ._shop import Shop
from .layouts import LAYOUT_SHOPS as _LAYOUTS
from .shops_more import SHOPS as _MORE
from .shops_north_east import SHOPS as _NORTH_EAST
from .shops_west import SHOPS as _WEST
from .shops_world import SHOPS as _WORLD

SHOPS: dict[str, Shop] = {s.domain: s for s in (*_WEST, *_NORTH_EAST, *_WORLD, *_MORE)}
LAYOUTS: dict[str, Shop] = {s.domain: s for s in _LAYOUTS}

__all__ = ["SHOPS", "LAYOUTS", "Shop"]
