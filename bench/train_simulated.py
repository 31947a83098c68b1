"""Train a recipe on a simulated survey and compare its test RMSE with the survey's information limit and realised floor.

Prints test RMSE and NMAD (bootstrap 68% intervals), the information limit, RMSE/limit, the realised floor, the mean-predictor RMSE and wall times.

    python bench/train_simulated.py                          # 5000 galaxies, default recipe (32 px)
    python bench/train_simulated.py --n 3000 --recipe demo   # what `metallicity-cnn demo` runs
"""
import argparse
from metallicity_cnn.demo import demo

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('--n', type=int, default=5000)
p.add_argument('--recipe', default='default')
p.add_argument('--seed', type=int, default=0)
p.add_argument('--epochs', type=int, default=None)
p.add_argument('--size', type=int, default=None)
p.add_argument('--out', default=None)
a = p.parse_args()
out = a.out or f'bench/out/sim-{a.n}-{a.recipe}'
r = demo(out, a.n, a.seed, a.recipe, progress=False, epochs=a.epochs, size=a.size)
t = r['metrics']['test']['oh_p50']
print(f"simulated survey n={a.n}, recipe {a.recipe}, test n={t['n']}")
print(f"test RMSE {t['rmse']:.4f} [{t['rmse_ci68'][0]:.4f}, {t['rmse_ci68'][1]:.4f}]  NMAD {t['nmad']:.4f} "
      f"[{t['nmad_ci68'][0]:.4f}, {t['nmad_ci68'][1]:.4f}]  bias {t['bias']:+.4f}")
print(f"information limit {t['information_limit']:.4f}  RMSE/limit {t['rmse_over_limit']:.2f}  realised floor {t['floor_realised']:.4f} "
      f"(drawn scatter {r['survey']['noise_floor']:.3f})  mean-predictor RMSE {t['rmse_mean_predictor']:.4f}")
print(f"wall {r['wall_seconds']:.0f} s (simulation {r['simulate_seconds']:.0f} s)")
