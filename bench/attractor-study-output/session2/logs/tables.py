import json, sys, math
from math import comb
def mcnemar(b, c):
    n = b + c
    if n == 0: return 1.0
    k = min(b, c)
    p = sum(comb(n, i) for i in range(0, k + 1)) / 2 ** n * 2
    return min(1.0, p)
def curve(d, models):
    r = json.load(open(f'/work/wt/ep/work/study/{d}/curve.json'))
    print(f'## {d}: {r["attacks"]}')
    for m in models:
        if m not in r: continue
        x = r[m]
        print(m, 'clean %.1f' % (100 * x['clean_accuracy']), 'median', x['median_min_perturbation'], x['median_interval95'])
        for e in x['perEpsilon']:
            print('   eps', e['epsilon'], '%.1f%% [%.1f, %.1f]' % (100 * e['robust_accuracy'], 100 * e['interval95'][0], 100 * e['interval95'][1]), e['newly_broken_by'])
    # paired comparison EP vs other on the same images
    if 'EP' in r:
        for other in [m for m in models if m != 'EP' and m in r]:
            a = r['EP']['min_perturbation']; o = r[other]['min_perturbation']
            for e in r['grid']:
                rob = lambda v: isinstance(v, str) or v > e + 1e-6
                b = sum(1 for i in range(len(a)) if rob(a[i]) and not rob(o[i]))
                c = sum(1 for i in range(len(a)) if not rob(a[i]) and rob(o[i]))
                print(f'   paired EP vs {other} at eps {e}: EP-only robust {b}, {other}-only robust {c}, McNemar exact p = {mcnemar(b, c):.3f}')
for d, ms in [(a.split(':')[0], a.split(':')[1].split(',')) for a in sys.argv[1:]]:
    curve(d, ms)

def wilson(k, n, z=1.96):
    p = k / n; d = 1 + z*z/n; c = p + z*z/(2*n); h = z*math.sqrt(p*(1-p)/n + z*z/(4*n*n))
    return (100*(c-h)/d, 100*(c+h)/d)
def combined(model, dirs, grid):
    """Per-image worst case over several curve runs of one model on the same images."""
    arrays = [json.load(open(f'/work/wt/ep/work/study/{d}/curve.json'))[model]['min_perturbation'] for d in dirs]
    n = len(arrays[0]); out = {}
    for e in grid:
        rob = [all(isinstance(a[i], str) or a[i] > e + 1e-6 for a in arrays) for i in range(n)]
        out[e] = rob
        k = sum(rob); lo, hi = wilson(k, n)
        print(f'  {model} combined {dirs} eps {e}: {k}/{n} = {100*k/n:.1f}% [{lo:.1f}, {hi:.1f}]')
    return out

def final(label, ep_dirs, ff_dir, grid):
    print('###', label)
    ep = combined('EP', ep_dirs, grid)
    ffj = json.load(open(f'/work/wt/ep/work/study/{ff_dir}/curve.json'))['FF']['min_perturbation']
    for e in grid:
        ff = [isinstance(v, str) or v > e + 1e-6 for v in ffj]
        b = sum(1 for i in range(len(ff)) if ep[e][i] and not ff[i]); c = sum(1 for i in range(len(ff)) if not ep[e][i] and ff[i])
        k = sum(ff); lo, hi = wilson(k, len(ff))
        print(f'  FF eps {e}: {k}/{len(ff)} = {100*k/len(ff):.1f}% [{lo:.1f}, {hi:.1f}]; paired EP-only {b}, FF-only {c}, p = {mcnemar(b, c):.4f}')
    return ep
