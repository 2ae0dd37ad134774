"""Regenerates masking.txt by running the official dinov2 MaskingGenerator (data/masking.py) with Python's
`random` replaced by a scripted stream that the Java test replays (ScriptedRandom):
  u_k = (splitmix64(k) >> 11) * 2**-53,  k = 0, 1, 2, ...
  random.uniform(a, b) = a + (b - a) * u_k;  random.randint(a, b) = a + int(u_k * (b - a + 1))

Usage: git -C <dinov2 repo> show HEAD:dinov2/data/masking.py > /tmp/masking.py
       python3 make_masking.py /tmp/masking.py > masking.txt          (needs numpy)
"""
import importlib.util
import sys

M64 = (1 << 64) - 1


def splitmix64(k):
    z = (k * 0x9E3779B97F4A7C15 + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


class Scripted:
    def __init__(self):
        self.k = 0

    def next(self):
        u = (splitmix64(self.k) >> 11) * 2.0**-53
        self.k += 1
        return u

    def uniform(self, a, b):
        return a + (b - a) * self.next()

    def randint(self, a, b):
        return a + int(self.next() * (b - a + 1))


spec = importlib.util.spec_from_file_location("masking", sys.argv[1])
masking = importlib.util.module_from_spec(spec)
spec.loader.exec_module(masking)
rng = Scripted()
masking.random = rng

print("# official dinov2 MaskingGenerator; per line: img_size patch_size max_num_patches n draws_after mask(0/1, row-major)")
for img_size, patch_size in ((32, 4), (224, 14), (30, 4), (16, 4)):
    # exactly as dinov2/train/train.py builds it
    gen = masking.MaskingGenerator(
        input_size=(img_size // patch_size, img_size // patch_size),
        max_num_patches=0.5 * img_size // patch_size * img_size // patch_size,
    )
    side = img_size // patch_size
    for n in (0, 1, 3, 4, 6, 9, 13, 20, side * side // 2, side * side - 1, side * side):
        for _ in range(3):
            mask = gen(n)
            bits = "".join("1" if v else "0" for v in mask.ravel())
            print(img_size, patch_size, repr(gen.max_num_patches), n, rng.k, bits)
