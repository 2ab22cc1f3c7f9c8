#!/usr/bin/env python3
"""Writes areas_wgs84.* with pyshp 3.1.6 (run from the repository root): polygon records, one
with a hole and one of two parts, to check that the reader takes their centroids."""
import shapefile, datetime
w = shapefile.Writer("tests/data/shapefile/areas_wgs84", shapeType=shapefile.POLYGON)
w.field("event_date", "D")
w.field("event_type", "C", size=40)
w.field("location", "C", size=80)
def square(cx, cy, r, clockwise=True):
    pts = [(cx - r, cy - r), (cx - r, cy + r), (cx + r, cy + r), (cx + r, cy - r), (cx - r, cy - r)]
    return pts if clockwise else pts[::-1]
# Ain al-Asad air base: a square with a square hole (counter-clockwise) 0.005 degrees east of its
# centre, so the centroid lies 0.0004 * 0.005 / 0.0012 degrees west of the centre (a reader that
# dropped the hole would put it on the centre).
w.poly([square(42.441, 33.786, 0.02), square(42.446, 33.786, 0.01, clockwise=False)])
w.record(datetime.date(2021, 6, 6), "Interception", "Ain al-Asad air base")
# Baghdad International Airport: two squares either side of it (a multipolygon).
w.poly([square(44.2044, 33.2625, 0.01), square(44.2644, 33.2625, 0.01)])
w.record(datetime.date(2021, 6, 5), "Interception", "Baghdad International Airport")
w.close()
open("tests/data/shapefile/areas_wgs84.prj", "w").write('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
