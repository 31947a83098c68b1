"Model files: a saved run loads in a fresh process and predicts identically; a weights file cannot run code."
import os, subprocess, sys
import numpy as np, pandas as pd, pytest, torch
from metallicity_cnn.model import load_model
from metallicity_cnn.predict import predict

def test_round_trip_in_fresh_process(run_dir, sample, catalog, tmp_path):
    sub = catalog.head(10)
    here = predict(run_dir, sample/'images', sub, progress=False)
    code = ("import sys, pandas as pd; from metallicity_cnn.predict import predict; "
            "p = predict(sys.argv[1], sys.argv[2], pd.read_csv(sys.argv[3], dtype={'objID': str}), progress=False); p.to_csv(sys.argv[4], index=False)")
    sub.to_csv(tmp_path/'c.csv', index=False)
    subprocess.run([sys.executable, '-c', code, run_dir, sample/'images', tmp_path/'c.csv', tmp_path/'p.csv'], check=True)
    there = pd.read_csv(tmp_path/'p.csv', dtype={'objID': str})
    assert there.objID.tolist() == here.objID.tolist()
    np.testing.assert_allclose(there.oh_p50_pred, here.oh_p50_pred, atol=1e-5)

def test_weights_are_plain_tensors(run_dir):
    sd = torch.load(run_dir/'model.pt', weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    model, meta = load_model(run_dir)
    assert not model.training and meta['arch'] == 'resnet18'

class _Payload:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def test_pickled_code_is_refused(run_dir, tmp_path):
    evil = tmp_path/'evil'; evil.mkdir()
    (evil/'model.json').write_text((run_dir/'model.json').read_text())
    marker = tmp_path/'executed'
    torch.save({'weights': _Payload(marker)}, evil/'model.pt')
    with pytest.raises(ValueError, match='not a plain tensor state_dict'): load_model(evil)
    assert not marker.exists()

def test_interrupted_save_keeps_old_model(run_dir, tmp_path, monkeypatch):
    import shutil
    from metallicity_cnn.model import save_model
    copy = tmp_path/'run'; shutil.copytree(run_dir, copy)
    before = (copy/'model.pt').read_bytes()
    model, meta = load_model(copy)
    def boom(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(torch, 'save', boom)
    with pytest.raises(KeyboardInterrupt): save_model(model, meta, copy)
    assert (copy/'model.pt').read_bytes() == before
    assert sorted(p.name for p in copy.iterdir()) == ['metrics.json', 'model.json', 'model.pt', 'split.csv']
