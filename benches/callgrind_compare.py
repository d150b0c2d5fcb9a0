#!/usr/bin/env python3
"""Instructions per iteration of the same benches built from two trees, side
by side (valgrind callgrind; load-independent, so it holds on a busy machine).

    # in each tree: cargo bench -p pxe-benches --no-run
    python3 benches/callgrind_compare.py BEFORE/target/release/deps AFTER/target/release/deps

Per iteration = `Bencher::iter`'s inclusive count divided by the calls of a
function run once per iteration (per handled message for server_engine).
Prints one Markdown table row per case: before, after, after/before.
"""
import collections, concurrent.futures as cf, glob, os, re, subprocess, sys, tempfile

def bench_exe(deps, name):
    """The newest bench executable `name-<hash>` in a target's deps folder."""
    found = [p for p in glob.glob(os.path.join(deps, name + '-*'))
             if os.access(p, os.X_OK) and not p.endswith('.d')]
    if not found:
        sys.exit(f'no {name} bench in {deps}: build it with cargo bench -p pxe-benches --no-run')
    return max(found, key=os.path.getmtime)

EVAL = (r'Config>::evaluate$', r'Run<T>::decide$')
HANDLE = (r'Engine::handle$', r'Engine::handle$')
CASES = (
    [('rules', f'rules/eval/{c}/{n}', *EVAL) for n in (10, 100, 1000) for c in ('bios', 'ipxe')]
    + [('rules', f'rules/eval/{s}/{c}/0', *EVAL) for s in ('seed-real', 'seed-proxy') for c in ('bios', 'ipxe')]
    + [('rules', f'rules/parse+eval/ipxe/{n}', *EVAL) for n in (10, 100, 1000)]
    + [('server_engine', 'server_engine/proxy DISCOVER -> OFFER (seed menu)', *HANDLE),
       ('server_engine', 'server_engine/full DORA + RELEASE', *HANDLE)]
    + [('dhcp', f'dhcp_lookup/{p}/pxe-dhcp {k}', rf'::pxe_dhcp_{k}$', rf'::pxe_dhcp_{k}$')
       for p in ('bios_discover', 'ipxe_discover', 'offer') for k in ('raw', 'typed')]
    + [('dhcp', 'dhcp_build/offer/pxe-dhcp', r'::pxe_dhcp_offer$', r'::pxe_dhcp_offer$')]
    + [('tftp', f'tftp_transfer_8MiB/blksize{b}/window{w}', r'tftp::transfer$', r'tftp::transfer$')
       for b in (512, 1468, 8192, 65464) for w in (1, 4, 16, 64)]
)
def calls(path):
    names={}; c=collections.Counter(); inc=collections.Counter(); cfn=None; pend=None
    def nm(t):
        m=re.match(r'\((\d+)\)(?: (.*))?',t)
        if not m: return t
        if m.group(2): names[m.group(1)]=m.group(2)
        return names.get(m.group(1),t)
    for line in open(path):
        line=line.rstrip('\n')
        if line.startswith('fn='): nm(line[3:])
        elif line.startswith('cfn='): cfn=nm(line[4:])
        elif line.startswith('calls='): pend=int(line[6:].split()[0])
        elif pend is not None and line and (line[0].isdigit() or line[0] in '+-*'):
            p=line.split(); c[cfn]+=pend; inc[cfn]+=int(p[1]) if len(p)>1 else 0; pend=None
    return c,inc
OUT = tempfile.mkdtemp(prefix='callgrind-')
def run(exe,case,tag):
    out=f'{OUT}/{tag}.out'
    subprocess.run(['valgrind','--tool=callgrind','--callgrind-out-file='+out,exe,'--bench','--profile-time','2',re.escape(case)+'$'],
        stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL,env={**os.environ,'CRITERION_HOME':f'{OUT}/criterion-{tag}'})
    return calls(out)
def per_iter(res,pat):
    c,inc=res
    it=sum(v for k,v in inc.items() if 'Bencher<M>::iter' in k and 'closure' not in k)
    n=[(k,v) for k,v in c.items() if re.search(pat,k)]
    n=max(n,key=lambda kv:kv[1]) if n else (None,0)
    return it/n[1] if n[1] else float('nan'), n[0]
if len(sys.argv) != 3:
    sys.exit(__doc__)
EX = {b: (bench_exe(sys.argv[1], b), bench_exe(sys.argv[2], b)) for b in ('rules', 'server_engine', 'dhcp', 'tftp')}
with cf.ThreadPoolExecutor(2) as ex:
    for i,(bench,case,bp,mp) in enumerate(CASES):
        fb=ex.submit(run,EX[bench][0],case,f'b{i}'); fm=ex.submit(run,EX[bench][1],case,f'm{i}')
        b,bn=per_iter(fb.result(),bp); m,mn=per_iter(fm.result(),mp)
        print(f'| {bench} | {case} | {b:.0f} | {m:.0f} | {m/b:.2f} |',flush=True)
        print(f'    counted: {bn} / {mn}',file=sys.stderr,flush=True)
