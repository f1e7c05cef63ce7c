"""Japanese, Korean and Chinese (Hong Kong) street addresses, written largest place first.

These run the other way round from European ones and have no spaces or
street-type words in the Latin sense:

* Japan: ``〒604-8005 京都府京都市中京区恵比須町123`` or ``東京都台東区松が谷2丁目21番5号``
  (postcode, prefecture, city/ward, then district and block numbers);
* Korea (road-name addresses): ``(03055) 서울특별시 종로구 북촌로 31`` (postcode in
  brackets or on a ``우편번호`` line, province, city/district, road ``-로``/``-길`` + number);
* Hong Kong: ``香港九龍旺角彌敦道688號...`` (no postcode).

The prefectures and provinces come from Google's address metadata
(:mod:`._postal`).  Each finding is ``(street, city, postcode, region, country, raw)``.
"""

from __future__ import annotations

import re

from raterd.extract._postal import country_format

__all__ = ["find_cjk_addresses", "has_cjk"]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3〒]")
_DIGITS = str.maketrans("０１２３４５６７８９－ー−", "0123456789---")
_JP_PC = re.compile(r"〒\s*(?P<pc>\d{3}-?\d{4})\s*(?P<rest>.*)")
_JP_PLACE = re.compile(r"(?P<city>(?:[^\d\s]{1,6}?郡)?[^\d\s]{1,8}?[市区町村](?:[^\d\s]{1,6}?区)?)(?P<street>.*\d.*)")
_JP_STREET = re.compile(r"\d|丁目|番地?")
_KR_PROVINCE = r"[가-힣]{1,6}(?:특별시|광역시|특별자치시|특별자치도|도)"
_KR_ROAD = re.compile(
    rf"(?P<prov>{_KR_PROVINCE})\s*(?P<city>(?:[가-힣]{{1,6}}(?:시|군|구)\s*){{1,2}})"
    r"(?P<street>[가-힣0-9·.]{1,20}?(?:로|길)\s*\d{1,5}(?:-\d{1,5})?(?:\s*번길\s*\d{1,5})?)"
)
_KR_PC = re.compile(r"(?:\(|（|우편번호\s*:?\s*|^)\s*(?P<pc>\d{5})\s*(?:\)|）|$|\s)")
_HK_STREET = re.compile(
    r"(?P<area>香港|九龍|九龙|新界|香港島|香港岛)[^\d\s]{0,12}?(?P<street>[\u4e00-\u9fff]{1,8}(?:道|路|街|里|徑|径)\s*\d{1,5}(?:-\d{1,5})?\s*[號号])"
)


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _japanese(lines: list[str]) -> list[tuple[str, str, str, str, str, str]]:
    fmt = country_format("JP")
    prefectures = sorted((r for r in (fmt.regions if fmt else ()) if has_cjk(r)), key=len, reverse=True)
    found = []
    for i, line in enumerate(lines):
        if "〒" not in line:
            continue
        match = _JP_PC.search(line.translate(_DIGITS))
        if not match:
            continue
        pc = match.group("pc")
        pc = pc if "-" in pc else f"{pc[:3]}-{pc[3:]}"
        rest = match.group("rest").strip() or (lines[i + 1].translate(_DIGITS).strip() if i + 1 < len(lines) else "")
        region = next((p for p in prefectures if rest.startswith(p)), "")
        place = _JP_PLACE.match(rest[len(region):].strip())
        if not place or not _JP_STREET.search(place.group("street")):
            continue
        found.append((place.group("street").strip(), place.group("city"), pc, region, "JP", f"〒{pc} {rest}"[:300]))
    return found


def _korean(lines: list[str]) -> list[tuple[str, str, str, str, str, str]]:
    found = []
    for i, line in enumerate(lines):
        match = _KR_ROAD.search(line)
        if not match:
            continue
        pc = ""
        for near in [line, *lines[i + 1: i + 3], *lines[max(0, i - 2): i]]:
            code = _KR_PC.search(near)
            if code:
                pc = code.group("pc")
                break
        found.append((match.group("street").strip(), match.group("city").strip(), pc, match.group("prov"), "KR",
                      line[:300]))
    return found


def _hong_kong(lines: list[str]) -> list[tuple[str, str, str, str, str, str]]:
    found = []
    for line in lines:
        match = _HK_STREET.search(line)
        if match:
            # "香港九龍旺角...": the district (九龍 / 新界 / 香港島) after the territory's name, if given
            head = match.group(0)
            area = next((d for d in ("九龍", "九龙", "新界", "香港島", "香港岛") if d in head), match.group("area"))
            found.append((match.group("street"), area, "", area, "HK", line[:300]))
    return found


def find_cjk_addresses(lines: list[str]) -> list[tuple[str, str, str, str, str, str]]:
    """Japanese, Korean and Hong Kong Chinese street addresses in these lines, in that order."""
    if not any(has_cjk(line) for line in lines):
        return []
    return _japanese(lines) + _korean(lines) + _hong_kong(lines)
