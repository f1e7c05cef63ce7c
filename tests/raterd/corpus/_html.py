"""Small HTML builders for the corpus pages, so each site's data stays readable.

Pages are plain strings (or bytes in a chosen encoding); nothing here knows
about the server or the rater.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["page", "shop_items", "nav", "jsonld", "sitemap_xml"]


def nav(*links: tuple[str, str]) -> str:
    return "<nav>" + " | ".join(f'<a href="{href}">{escape(text)}</a>' for href, text in links) + "</nav>"


def page(title: str, *body: str, links: Sequence[tuple[str, str]] = (), head: str = "", lang: str = "en",
         footer: str = "", charset: str | None = "utf-8") -> str:
    """A whole HTML document: a nav bar of *links*, the *body* parts, a footer."""
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head>{meta}<title>{escape(title)}</title>{head}</head>\n'
        f"<body><header>{nav(*links)}</header>\n<main>{''.join(body)}</main>\n"
        f"<footer>{footer}</footer></body></html>\n"
    )


def shop_items(items: Iterable[tuple[str, str]], button: str = "Add to basket") -> str:
    """Product blocks with prices and a cart button: what makes a site commercial."""
    return "".join(
        f'<div class="product"><h2>{escape(name)}</h2><p class="price">{escape(price)}</p>'
        f'<form action="/basket/add" method="post"><button type="submit">{escape(button)}</button></form></div>'
        for name, price in items
    )


def jsonld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


def sitemap_xml(urls: Iterable[str]) -> str:
    entries = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n')
