"""Download speed of `metallicity-cnn download-images`: images/s against the local fake SkyServer (tests/fake_skyserver.py,
real sample cutouts) with a fixed latency added to every request, at 1 and 8 workers, rate cap set high so that only
concurrency differs. Target: >= 20 images/s at 8 workers (the seed's serial script: about 1.7/s).

    python bench/download.py [--n 120] [--latency 0.1] [--workers 1 8] [--max-rate 1000]
"""
import argparse, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'tests'))
from fake_skyserver import FakeSkyServer, make_catalog
from metallicity_cnn.sdss import download_images


def bench(cat, url, workers, max_rate):
    "`(n_ok, seconds)` of one download of `cat` into a fresh directory"
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        m = download_images(cat, d, workers=workers, max_rate=max_rate, server=url, progress=False)
        return int((m.status == 'ok').sum()), time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--n', type=int, default=120, help='images per run (at most 400, the size of the shared sample)')
    p.add_argument('--latency', type=float, default=0.1, help='seconds added by the server to every request')
    p.add_argument('--workers', type=int, nargs='+', default=[1, 8], help='worker counts to time')
    p.add_argument('--max-rate', type=float, default=1000., help='rate cap of the downloader (requests/s)')
    args = p.parse_args()
    cat = make_catalog(args.n)
    print(f"{len(cat)} cutouts of 128x128 from a local fake SkyServer, {args.latency*1000:.0f} ms added latency, "
          f"rate cap {args.max_rate:g}/s")
    with FakeSkyServer(cat, latency=args.latency) as fs:
        for w in args.workers:
            n, dt = bench(cat, fs.url, w, args.max_rate)
            print(f"workers={w}: {n}/{len(cat)} images in {dt:.2f} s: {n/dt:.1f} images/s")


if __name__ == '__main__': main()
