#!/usr/bin/python3
"""Writes the CMYK JPEG fixture for tests/Embedding/BadInputTests.cs with Debian's Pillow:
/usr/bin/python3 make_images.py (from this folder).

cmyk.jpg: a 40x40 CMYK JPEG (quality 100) of four flat colour quadrants; cmyk_as_rgb.png: Pillow's own conversion
of the decoded JPEG to RGB, the reference the test compares ImageSharp's decoding with.
"""
from PIL import Image

img = Image.new("RGB", (40, 40))
px = img.load()
for y in range(40):
    for x in range(40):
        px[x, y] = [(200, 30, 30), (30, 180, 40), (20, 40, 210), (230, 220, 60)][(y // 20) * 2 + x // 20]
cmyk = img.convert("CMYK")
cmyk.save("cmyk.jpg", quality=100)
back = Image.open("cmyk.jpg")
assert back.mode == "CMYK", back.mode
back.convert("RGB").save("cmyk_as_rgb.png")
print("ok", back.mode, back.size)
