"""`--pretrained imagenet`: weights downloaded through torchvision's weights API from a server on 127.0.0.1, the offline error,
and the body of the learner holding exactly the file's tensors"""
import hashlib, http.server, json, socket, threading
from functools import partial
from pathlib import Path
import pytest, torch, torchvision
from metallicity_cnn.cli import run_command
from metallicity_cnn.data import load_catalog, make_split, galaxy_dls
from metallicity_cnn.learner import imagenet_weights, weights_cache_file, pretrained_weights, galaxy_learner

BODY = ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'] # torchvision ResNet children, fastai's body

@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    "A randomly initialised ResNet-18 state_dict, named as torchvision names its files: `resnet18-<first 8 hex of its SHA-256>.pth`"
    d = tmp_path_factory.mktemp('served')
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), d/'ckpt.pth')
    sha = hashlib.sha256((d/'ckpt.pth').read_bytes()).hexdigest()
    return (d/'ckpt.pth').rename(d/f'resnet18-{sha[:8]}.pth'), sha

class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

@pytest.fixture(scope='module')
def server(checkpoint):
    "An HTTP server on 127.0.0.1 serving the checkpoint's folder; yields its base URL and the list of paths requested"
    requested = []
    class H(_Handler):
        def do_GET(self): requested.append(self.path); super().do_GET()
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(H, directory=str(checkpoint[0].parent)))
    srv.timeout = 10
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}', requested
    srv.shutdown(); srv.server_close()

@pytest.fixture
def resnet18_at(monkeypatch, tmp_path):
    "Point torchvision's ResNet-18 ImageNet weights at a URL, with a fresh torch cache (TORCH_HOME in `tmp_path`)"
    monkeypatch.setenv('TORCH_HOME', str(tmp_path/'torch'))
    w = imagenet_weights('resnet18')
    def point(url): monkeypatch.setattr(w.value, 'url', url); return w
    return point

def closed_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def body_matches(body:torch.nn.Module, sd:dict) -> int:
    "Number of body tensors checked equal to the torchvision state_dict `sd` (fails on the first that differs)"
    got = body.state_dict()
    test = {f"{BODY[int(k.split('.', 1)[0])]}.{k.split('.', 1)[1]}": v for k, v in got.items()}
    assert set(test) == {k for k in sd if not k.startswith('fc.')}
    for k, v in test.items(): assert torch.equal(v.cpu(), sd[k]), k
    return len(test)

def test_download_into_torch_cache(checkpoint, server, resnet18_at):
    url, requested = server
    path, sha = checkpoint
    w = resnet18_at(f'{url}/{path.name}')
    n0 = len(requested)
    p = pretrained_weights('resnet18', 'imagenet', progress=False)
    assert p == weights_cache_file(w) and p.parent == Path(torch.hub.get_dir())/'checkpoints'
    assert hashlib.sha256(p.read_bytes()).hexdigest() == sha and requested[n0:] == [f'/{path.name}']
    assert pretrained_weights('resnet18', 'imagenet', progress=False) == p and len(requested) == n0 + 1 # from the cache now
    assert pretrained_weights('resnet18', 'auto') == p

def test_learner_body_equals_checkpoint(checkpoint, server, resnet18_at, sample, catalog):
    url, _ = server
    path, _ = checkpoint
    resnet18_at(f'{url}/{path.name}')
    df, _ = load_catalog(catalog.head(40), sample/'images')
    dls = galaxy_dls(df, sample/'images', make_split(df, 0), size=32, bs=8, seed=0)
    learn = galaxy_learner(dls, 'resnet18', pretrained_weights('resnet18', 'imagenet', progress=False))
    sd = torch.load(path, weights_only=True)
    assert body_matches(learn.model[0], sd) == len(sd) - 2 # every tensor but the classifier's weight and bias
    fresh = galaxy_learner(dls, 'resnet18', None)
    assert not torch.equal(fresh.model[0][0].weight.cpu(), sd['conv1.weight']) # the check can fail

def test_train_cli_records_downloaded_weights(checkpoint, server, resnet18_at, sample, catalog, tmp_path, capsys):
    url, _ = server
    path, sha = checkpoint
    w = resnet18_at(f'{url}/{path.name}')
    catalog.head(40).to_csv(tmp_path/'cat.csv', index=False)
    rc = run_command(['train', '--catalog', str(tmp_path/'cat.csv'), '--images', str(sample/'images'), '--out', str(tmp_path/'run'),
                      '--recipe', 'tiny', '--pretrained', 'imagenet'])
    assert rc == 0, capsys.readouterr().err
    meta = json.loads((tmp_path/'run'/'model.json').read_text())
    assert meta['weights'] == dict(source='torchvision ResNet18_Weights.IMAGENET1K_V1', url=w.url, file=str(weights_cache_file(w)), sha256=sha)
    assert meta['normalisation'] == 'imagenet' and meta['pretrained'] == str(weights_cache_file(w))

@pytest.mark.parametrize('why', ['closed port', 'wrong hash'])
def test_offline_error_writes_nothing(why, checkpoint, server, resnet18_at, sample, catalog, tmp_path, capsys):
    path, _ = checkpoint
    url = f'http://127.0.0.1:{closed_port()}/{path.name}' if why == 'closed port' else f'{server[0]}/{path.name}'
    w = resnet18_at(url)
    if why == 'wrong hash': # the same bytes under a name whose hash does not match: torch.hub's check refuses them
        bad = path.parent/'resnet18-00000000.pth'; bad.write_bytes(path.read_bytes())
        w = resnet18_at(f'{server[0]}/{bad.name}')
    catalog.head(30).to_csv(tmp_path/'cat.csv', index=False)
    rc = run_command(['train', '--catalog', str(tmp_path/'cat.csv'), '--images', str(sample/'images'), '--out', str(tmp_path/'run'),
                      '--recipe', 'tiny', '--pretrained', 'imagenet'])
    err = capsys.readouterr().err.strip()
    cache = Path(torch.hub.get_dir())/'checkpoints'
    line = err.split('\n')[-1] # after torch.hub's progress bar, when the download itself worked
    assert rc == 1 and (why != 'closed port' or line == err), err
    assert line.startswith('metallicity-cnn train: error: could not download') and Path(w.url).name in err and f'put that file in {cache}' in line
    assert not (tmp_path/'run').exists()
    assert not cache.exists() or list(cache.iterdir()) == []
