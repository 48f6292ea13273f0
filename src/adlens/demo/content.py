"""The demo's generated shop: a small drawn catalogue, ad creatives and an ad inventory.

Everything is drawn with OpenCV at run time (nothing is read from ../shared), so
``adlens demo`` works on a fresh machine with only the model weights.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from adlens.samples import sample_image

Colour = tuple[int, int, int]  # BGR

COLOURS: dict[str, Colour] = {
    "Black": (25, 25, 25), "Brown": (30, 60, 110), "Red": (40, 40, 200), "Blue": (160, 80, 30),
    "Green": (60, 140, 40), "White": (235, 235, 235), "Navy Blue": (90, 40, 20), "Yellow": (40, 200, 230),
}


def _canvas(size: int = 224) -> np.ndarray:
    return np.full((size, size, 3), 250, dtype=np.uint8)


def _sunglasses(colour: Colour) -> np.ndarray:
    image = _canvas()
    for x in (72, 152):
        cv2.ellipse(image, (x, 112), (36, 26), 0, 0, 360, colour, -1, cv2.LINE_AA)
    cv2.line(image, (108, 106), (116, 106), colour, 6)
    cv2.line(image, (36, 104), (14, 96), colour, 5)
    cv2.line(image, (188, 104), (210, 96), colour, 5)
    return image


def _cap(colour: Colour) -> np.ndarray:
    image = _canvas()
    cv2.ellipse(image, (112, 140), (70, 62), 0, 180, 360, colour, -1, cv2.LINE_AA)
    cv2.ellipse(image, (150, 142), (70, 14), 0, 0, 360, tuple(int(c * 0.8) for c in colour), -1, cv2.LINE_AA)
    return image


def _bottle(colour: Colour) -> np.ndarray:
    image = _canvas()
    cv2.rectangle(image, (82, 90), (142, 200), colour, -1)
    cv2.rectangle(image, (100, 40), (124, 92), colour, -1)
    cv2.rectangle(image, (96, 28), (128, 44), (60, 60, 60), -1)
    cv2.rectangle(image, (90, 120), (134, 160), (235, 235, 235), -1)
    return image


def _tshirt(colour: Colour) -> np.ndarray:
    image = _canvas()
    points = np.array([[70, 40], [154, 40], [200, 80], [176, 106], [160, 92], [160, 200], [64, 200], [64, 92],
                       [48, 106], [24, 80]], dtype=np.int32)
    cv2.fillPoly(image, [points], colour, cv2.LINE_AA)
    return image


def _bag(colour: Colour) -> np.ndarray:
    image = _canvas()
    cv2.rectangle(image, (60, 70), (164, 200), colour, -1)
    cv2.ellipse(image, (112, 70), (34, 30), 0, 180, 360, (60, 60, 60), 6, cv2.LINE_AA)
    return image


DRAW: dict[str, Callable[[Colour], np.ndarray]] = {
    "Sunglasses": _sunglasses, "Caps": _cap, "Beard Oil": _bottle, "Wine": _bottle, "Tshirts": _tshirt,
    "Backpacks": _bag, "Coffee": _bag,
}

#: id, name, article type, colour, master category, sub category, gender.
PRODUCTS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("sg-black", "Classic black sunglasses", "Sunglasses", "Black", "Accessories", "Eyewear", "Unisex"),
    ("sg-brown", "Tortoise brown sunglasses", "Sunglasses", "Brown", "Accessories", "Eyewear", "Women"),
    ("sg-red", "Red aviator sunglasses", "Sunglasses", "Red", "Accessories", "Eyewear", "Men"),
    ("cap-blue", "Blue baseball cap", "Caps", "Blue", "Accessories", "Headwear", "Unisex"),
    ("cap-red", "Red sports cap", "Caps", "Red", "Accessories", "Headwear", "Men"),
    ("cap-green", "Green trucker cap", "Caps", "Green", "Accessories", "Headwear", "Women"),
    ("beard-oil", "Cedar beard oil", "Beard Oil", "Brown", "Personal Care", "Beard grooming", "Men"),
    ("beard-balm", "Amber beard balm and trimmer kit", "Beard Oil", "Yellow", "Personal Care", "Beard grooming",
     "Men"),
    ("tee-white", "White cotton t-shirt", "Tshirts", "White", "Apparel", "Topwear", "Unisex"),
    ("tee-navy", "Navy crew t-shirt", "Tshirts", "Navy Blue", "Apparel", "Topwear", "Men"),
    ("tee-yellow", "Sunny yellow t-shirt", "Tshirts", "Yellow", "Apparel", "Topwear", "Women"),
    ("bag-kids", "Green kids backpack", "Backpacks", "Green", "Accessories", "Bags", "Boys"),
    ("wine-red", "Rioja red wine", "Wine", "Red", "Food", "Wine", "Unisex"),
    ("coffee-beans", "House blend coffee beans", "Coffee", "Brown", "Food", "Coffee", "Unisex"),
)

COLUMNS = ("id", "productDisplayName", "articleType", "baseColour", "masterCategory", "subCategory", "gender", "image")


def write_catalogue(folder: Path) -> Path:
    """Draw every product's photo into ``folder/products`` and write ``folder/catalogue.csv``."""
    images = folder / "products"
    images.mkdir(parents=True, exist_ok=True)
    path = folder / "catalogue.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for pid, name, article, colour, master, sub, gender in PRODUCTS:
            photo = images / f"{pid}.png"
            cv2.imwrite(str(photo), DRAW[article](COLOURS[colour]))
            writer.writerow([pid, name, article, colour, master, sub, gender, f"products/{pid}.png"])
    return path


def _banner(title: str, caption: str, colour: Colour, product: np.ndarray, face: np.ndarray | None = None) -> np.ndarray:
    """A 640×360 creative: a coloured panel with the product, an optional model face, a title and a caption."""
    image = np.full((360, 640, 3), colour, dtype=np.uint8)
    image[68:292, 24:248] = product
    if face is not None:
        image[68:292, 392:616] = cv2.resize(face, (224, 224), interpolation=cv2.INTER_AREA)
    ink = (255, 255, 255) if sum(colour) < 400 else (20, 20, 20)
    cv2.putText(image, title, (24, 48), cv2.FONT_HERSHEY_SIMPLEX, 1.1, ink, 2, cv2.LINE_AA)
    cv2.putText(image, caption, (24, 336), cv2.FONT_HERSHEY_SIMPLEX, 0.75, ink, 2, cv2.LINE_AA)
    return image


def _astronaut_face() -> np.ndarray:
    """A square crop of the sample portrait around its face: the demo's model face."""
    return sample_image("astronaut")[30:250, 110:330]


#: id, name, product shown, banner colour, caption, ad settings beyond the defaults.
ADS: tuple[tuple[str, str, str, Colour, str, dict[str, Any]], ...] = (
    ("summer-shades", "Summer sunglasses", "sg-black", (0, 140, 255), "Shades for every sunny day",
     {"products": ["sg-black", "sg-brown", "sg-red"], "mood": "upbeat", "priority": 2,
      "targeting": {"attributes": {"eyewear": True}}, "frequency_cap": {"count": 5, "hours": 24}}),
    ("cap-collection", "The cap collection", "cap-blue", (160, 80, 30), "Caps for sun and sport",
     {"products": ["cap-blue", "cap-red", "cap-green"], "mood": "upbeat", "priority": 2,
      "targeting": {"attributes": {"hat": True}}}),
    ("beard-care", "Beard care", "beard-oil", (30, 60, 110), "Oil, balm and trimmer kits",
     {"products": ["beard-oil", "beard-balm"], "mood": "calm", "priority": 2,
      "targeting": {"gender": ["male"], "attributes": {"beard": True}}}),
    ("tees", "Cotton tees", "tee-yellow", (40, 200, 230), "Soft cotton, bright colours",
     {"products": ["tee-white", "tee-navy", "tee-yellow"], "mood": "upbeat", "priority": 1,
      "targeting": {"age": [16, 45]}}),
    ("wine-tasting", "Wine tasting Friday", "wine-red", (40, 20, 110), "Taste our Rioja, 18+ only",
     {"products": ["wine-red"], "categories": ["alcohol"], "mood": "calm", "priority": 3,
      "targeting": {"age": [25, 90]}}),
    ("coffee-corner", "Coffee corner", "coffee-beans", (60, 90, 120), "Fresh house blend, all day",
     {"products": ["coffee-beans"], "mood": "comforting", "priority": 0}),
)


def write_inventory(folder: Path) -> Path:
    """Draw the creatives into ``folder/creatives`` and write ``folder/ads.yaml``.

    The sunglasses ad has two creatives; the second shows a model face (the sample
    portrait), so a viewer who looks like her gets that one.
    """
    creatives = folder / "creatives"
    creatives.mkdir(parents=True, exist_ok=True)
    products = {p[0]: p for p in PRODUCTS}
    ads = []
    for ad_id, name, shown, colour, caption, extra in ADS:
        article, product_colour = products[shown][2], products[shown][3]
        drawing = DRAW[article](COLOURS[product_colour])
        cv2.imwrite(str(creatives / f"{ad_id}.png"), _banner(name, caption, colour, drawing))
        entry = {"id": ad_id, "name": name, **extra,
                 "creatives": [{"id": "main", "image": f"creatives/{ad_id}.png", "caption": caption}]}
        if ad_id == "summer-shades":
            face = _astronaut_face()
            cv2.imwrite(str(creatives / "model-face.png"), face)
            cv2.imwrite(str(creatives / f"{ad_id}-face.png"), _banner(name, caption, colour, drawing, face))
            entry["creatives"].append({"id": "with-model", "image": f"creatives/{ad_id}-face.png",
                                       "model_face": "creatives/model-face.png", "caption": caption})
        ads.append(entry)
    path = folder / "ads.yaml"
    path.write_text(yaml.safe_dump({"ads": ads}, sort_keys=False), encoding="utf-8")
    return path
