"Shape of the public API: few functions with long parameter lists, and forwarded options visible where they are forwarded."
import ast, inspect
from pathlib import Path
import metallicity_cnn

PKG = Path(metallicity_cnn.__file__).parent
LONG = {'predict', 'download_images', 'train_run', 'galaxy_learner', 'galaxy_dls'} # the entry points that keep their options in view

def _long_signatures(limit:int=8) -> set:
    "Public functions and methods of the package (command-line entry points aside) with more than `limit` parameters"
    out = set()
    for f in PKG.glob('*.py'):
        if f.name == '_modidx.py': continue
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.FunctionDef) or node.name.startswith('_') or node.name.endswith('_cli'): continue
            a = node.args
            n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) - int(bool(a.args) and a.args[0].arg in ('self', 'cls'))
            if n > limit: out.add(node.name)
    return out

def test_at_most_five_public_functions_take_more_than_eight_parameters():
    long = _long_signatures()
    assert long <= LONG and len(long) <= 5, f"functions with more than 8 parameters: {sorted(long - LONG)} (pass forwarded options through **kwargs with fastcore's delegates)"

def test_forwarded_options_are_in_the_signatures():
    from metallicity_cnn.model import GalaxyModel
    from metallicity_cnn.predict import predict
    from metallicity_cnn.evaluate import evaluate_run
    from metallicity_cnn.train import train_run, train_ensemble
    from metallicity_cnn.crossval import crossval_run
    from metallicity_cnn.analyses import resolution_study
    from metallicity_cnn.simulate import simulate_survey
    from metallicity_cnn.sdss import download_catalog
    params = lambda f: set(inspect.signature(f).parameters)
    assert {'tta', 'bs', 'bf16', 'compile', 'overwrite'} <= params(GalaxyModel.predict) and 'kwargs' not in params(GalaxyModel.predict)
    assert {'split', 'figures'} <= params(GalaxyModel.evaluate)
    for f in (train_ensemble, crossval_run, resolution_study):
        assert {'recipe', 'pretrained', 'id_col'} <= params(f), f.__name__
    assert {'targets', 'split_seed'} <= params(train_ensemble) and 'split_seed' not in params(crossval_run) # the folds give each fold's split
    assert {'scatter', 'relation', 'quenched'} <= params(simulate_survey)
    assert {'limit', 'page_size', 'max_qpm', 'retries'} <= params(download_catalog)
