"""Reference side of `dinoj bench data`: dinov2's own DataAugmentationDINO (official code) on a folder of JPEGs:
PIL decode + convert("RGB") + the multi-crop, images/s on 1 process and on N worker processes.

Usage (Debian: apt-get install python3-torch python3-torchvision), next to an extracted dinov2 checkout
(`git archive HEAD dinov2 | tar -x -C DIR`, this file copied into DIR):
    OMP_NUM_THREADS=1 /usr/bin/python3 DIR/dinov2_augmentation.py PHOTOS_DIR 512 2
where PHOTOS_DIR holds class folders of .jpg files (what `./dinoj bench data` writes and prints)."""
import sys, os, time, glob, multiprocessing as mp
sys.path.insert(0, os.path.dirname(__file__))
import torch
torch.set_num_threads(1)
from PIL import Image
from dinov2.data.augmentations import DataAugmentationDINO

files = sorted(glob.glob(os.path.join(sys.argv[1], "*", "*.jpg")))[: int(sys.argv[2])]
aug = DataAugmentationDINO((0.32, 1.0), (0.05, 0.32), 8, global_crops_size=224, local_crops_size=98)

def work(chunk):
    n = 0
    for f in chunk:
        img = Image.open(f).convert("RGB")
        aug(img)
        n += 1
    return n

def decode(chunk):
    for f in chunk:
        Image.open(f).convert("RGB").load()

if __name__ == "__main__":
    work(files[:16])
    t = time.time(); decode(files); d = len(files) / (time.time() - t)
    t = time.time(); work(files); one = len(files) / (time.time() - t)
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count()
    chunks = [files[i::procs] for i in range(procs)]
    with mp.Pool(procs) as p:
        p.map(work, [files[:8]] * procs)
        t = time.time(); p.map(work, chunks); many = len(files) / (time.time() - t)
    print(f"official DataAugmentationDINO (torch {torch.__version__}, torchvision, PIL): decode {d:.1f} img/s, "
          f"decode+multi-crop 1 process {one:.1f} img/s, {procs} processes {many:.1f} img/s")
