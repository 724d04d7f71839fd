# pkjdedup: compares EVERY ELF section of the uncompressed cubins in two fatbins (elfcmp.py compares the .text.* ones),
# keyed by (cubin e_flags = arch, section name); prints the names of those that differ, grouped by kind
# (usage: python3 seccmp.py OLD.fatbin NEW.fatbin).
# cubins() / sections() as in ../pkmode/elfcmp.py (which runs its comparison at import, so it is not imported).
import sys, struct, collections
def cubins(path):
    b = open(path, 'rb').read(); out = []; i = 0
    while True:
        j = b.find(b'\x7fELF\x02\x01\x01', i)
        if j < 0: break
        out.append(b[j:]); i = j + 4
    return out
def sections(e):
    shoff = struct.unpack_from('<Q', e, 0x28)[0]; shentsize, shnum, shstrndx = struct.unpack_from('<HHH', e, 0x3A)
    hdr = lambda k: struct.unpack_from('<IIQQQQIIQQ', e, shoff + k * shentsize)
    so = hdr(shstrndx)[4]; res = {}
    for k in range(shnum):
        h = hdr(k); nm = e[so + h[0]:e.index(b'\0', so + h[0])].decode()
        res[nm] = e[h[4]:h[4] + h[5]] if h[1] != 8 else b''
    return res
def allsec(path):
    d = {}
    for e in cubins(path):
        try: s = sections(e)
        except Exception: continue
        arch = struct.unpack_from('<I', e, 0x30)[0]
        for nm, v in s.items(): d[(arch, nm)] = v
    return d
a = allsec(sys.argv[1]); b = allsec(sys.argv[2])
common = [k for k in a if k in b]
diff = [k for k in common if a[k] != b[k]]
kind = lambda nm: nm.split('.')[1] if nm.count('.') >= 2 else nm
same = collections.Counter(kind(n) for k, n in [(k, k[1]) for k in common if a[k] == b[k]])
dk = collections.Counter(kind(n) for _, n in diff)
print("all sections: old", len(a), "new", len(b), "common", len(common), "differing", len(diff),
      "only old", sorted(set(n for _, n in a.keys() - b.keys())), "only new", sorted(set(n for _, n in b.keys() - a.keys())))
print("  identical by kind:", dict(sorted(same.items())))
print("  differing by kind:", dict(sorted(dk.items())))
print("  differing:", sorted(set(n for _, n in diff)))
