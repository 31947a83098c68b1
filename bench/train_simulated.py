"""Train a recipe on a simulated survey and compare its test RMSE with the survey's information limit and realised floor.

Prints test RMSE and NMAD (bootstrap 68% intervals), the information limit, RMSE/limit, the realised floor, the mean-predictor RMSE and wall times.

    python bench/train_simulated.py                          # 5000 galaxies, default recipe (32 px)
    python bench/train_simulated.py --n 3000 --recipe demo   # what `metallicity-cnn demo` runs
"""
from fastcore.script import call_parse
from metallicity_cnn.demo import demo

@call_parse
def main(n:int=5000, # galaxies in the simulated survey
         recipe:str='default', # training recipe
         seed:int=0, # survey and training seed
         epochs:int=None, # recipe override
         size:int=None, # recipe override
         out:str=None, # run directory (default: bench/out/sim-<n>-<recipe>)
        ):
    "Train a recipe on a simulated survey; print its test RMSE beside the information limit and the realised floor"
    out = out or f'bench/out/sim-{n}-{recipe}'
    r = demo(out, n, seed, recipe, progress=False, epochs=epochs, size=size)
    t = r['metrics']['test']['oh_p50']
    print(f"simulated survey n={n}, recipe {recipe}, test n={t['n']}")
    print(f"test RMSE {t['rmse']:.4f} [{t['rmse_ci68'][0]:.4f}, {t['rmse_ci68'][1]:.4f}]  NMAD {t['nmad']:.4f} "
          f"[{t['nmad_ci68'][0]:.4f}, {t['nmad_ci68'][1]:.4f}]  bias {t['bias']:+.4f}")
    print(f"information limit {t['information_limit']:.4f} (a reference, not a bound)  RMSE/limit {t['rmse_over_limit']:.2f}  realised floor {t['floor_realised']:.4f} "
          f"(drawn scatter {r['survey']['noise_floor']:.3f})  mean-predictor RMSE {t['rmse_mean_predictor']:.4f}")
    print(f"wall {r['wall_seconds']:.0f} s (simulation {r['simulate_seconds']:.0f} s)")
