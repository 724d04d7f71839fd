# pkmode: compares the .text sections of the uncompressed cubins in two fatbins (usage: python3 elfcmp.py OLD.fatbin NEW.fatbin).
import sys, struct
def cubins(path):
    b=open(path,'rb').read(); out=[]; i=0
    while True:
        j=b.find(b'\x7fELF\x02\x01\x01',i)
        if j<0: break
        out.append(b[j:]); i=j+4
    return out
def sections(e):
    shoff=struct.unpack_from('<Q',e,0x28)[0]; shentsize,shnum,shstrndx=struct.unpack_from('<HHH',e,0x3A)
    hdr=lambda k: struct.unpack_from('<IIQQQQIIQQ',e,shoff+k*shentsize)
    strt=hdr(shstrndx); so=strt[4]
    res={}
    for k in range(shnum):
        h=hdr(k); nm=e[so+h[0]:e.index(b'\0',so+h[0])].decode()
        res[nm]=e[h[4]:h[4]+h[5]] if h[1]!=8 else b''
    return res
def texts(path):
    d={}
    for e in cubins(path):
        try:
            s=sections(e)
        except Exception as ex:
            continue
        arch=struct.unpack_from('<I',e,0x30)[0]  # e_flags
        for nm,v in s.items():
            if nm.startswith('.text.'): d[(arch,nm)]=v
    return d
a=texts(sys.argv[1]); b=texts(sys.argv[2])
common=[k for k in a if k in b]
diff=[k for k in common if a[k]!=b[k]]
print("cubins text sections: old",len(a),"new",len(b),"common",len(common),"differing",len(diff),"only new",sorted(set(n for _,n in b.keys()-a.keys())))
for k in diff[:10]: print("DIFF",k)
