"""Keeps only the ELF image of one SM arch in CUDA fatbins, in place: python3 tools/fatbin_sm.py 90 F.fatbin...
stage-device.sh --sm 90 uses it so that a stage for the H200 carries sm_90a cubins only (the sm_80 cubins and the
compute_80 PTX are about half of the kernels-cuda jar). Layout read: a 16-byte header (magic 0xBA55ED50, version,
header size, payload size), then entries, each with its own header (kind 1 = PTX / 2 = ELF at byte 0, header size at
4, payload size at 8, SM arch at 28). It refuses a file whose entries do not tile the payload exactly, or that has
not exactly one ELF of that arch."""
import struct, sys
def entries(b):
    magic, ver, hsz, fsz = struct.unpack_from("<IHHQ", b, 0)
    assert magic == 0xBA55ED50 and hsz == 16 and hsz + fsz == len(b), (hex(magic), hsz, fsz, len(b))
    off, out = hsz, []
    while off < len(b):
        kind, _, ehsz, psz = struct.unpack_from("<HHIQ", b, off)
        arch = struct.unpack_from("<I", b, off + 28)[0]
        out.append((kind, arch, off, ehsz + psz)); off += ehsz + psz
    assert off == len(b), (off, len(b))
    return out
def keep(b, sm):
    es = entries(b)
    kept = [b[o:o + n] for k, a, o, n in es if k == 2 and a == sm]
    assert len(kept) == 1, [(k, a) for k, a, _, _ in es]
    body = b"".join(kept)
    return struct.pack("<IHHQ", 0xBA55ED50, 1, 16, len(body)) + body, [(k, a, n) for k, a, _, n in es]
if __name__ == "__main__":
    sm = int(sys.argv[1])
    for p in sys.argv[2:]:
        b = open(p, "rb").read()
        nb, es = keep(b, sm)
        open(p, "wb").write(nb)
        print(p.rsplit("/", 1)[-1], len(b), "->", len(nb), es)
