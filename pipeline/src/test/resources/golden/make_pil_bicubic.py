"""Regenerates pil_bicubic.txt: what torchvision's RandomResizedCrop does to a PIL image once the box is
chosen, i.e. img.crop((left, top, left + w, top + h)).resize((size, size), Image.BICUBIC).

Usage: python3 make_pil_bicubic.py > pil_bicubic.txt   (needs Pillow and numpy)
"""
import numpy as np
import PIL
from PIL import Image

rng = np.random.default_rng(1234)
W, H = 13, 9
img = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
pil = Image.fromarray(img, "RGB")
cases = [  # (top, left, h, w, size)
    (0, 0, 9, 13, 4),    # shrink: antialiased support
    (0, 0, 9, 13, 32),   # enlarge
    (2, 3, 5, 4, 16),    # small box, enlarge
    (1, 1, 8, 12, 7),    # shrink, non-integer scale
    (0, 5, 9, 8, 8),     # mixed: shrink vertically, keep horizontally
]
print(f"# Pillow {PIL.__version__}; image {W}x{H} RGB uint8, CHW order")
print("image", W, H, " ".join(str(v) for v in img.transpose(2, 0, 1).ravel()))
for top, left, h, w, size in cases:
    out = np.asarray(pil.crop((left, top, left + w, top + h)).resize((size, size), Image.BICUBIC))
    print("case", top, left, h, w, size, " ".join(str(v) for v in out.transpose(2, 0, 1).ravel()))
