# Shapes: one chunk of 256 points (a 16 x 16 matrix X[r][c] at 16 r + c) in the SIDX-padded planes (264 slots), one warp
# of 32 lanes (g = lane / 4, t = lane % 4); Kspec the chunk's 256 spectrum values.
# Lane-level model of conv256_og (monarch_pair.cuh) and conv256_ru (flashbutterfly_ogr.cu) for one chunk, float64,
# PTX fragment layouts (mma m16n8k16, movmatrix m8n8 .trans); 16-bit pairs as (lo, hi) tuples, __byte_perm selectors
# 0x5410 / 0x1054 as (a, b) / (b, a). Not part of the build: `python3 og_ru_model.py` prints whether the B-fragment
# layout matches the A registers (j, j + 2), the largest |og - ru| over the chunk (0 expected: the same operations, the
# negated fragments and swapped columns undone exactly) and og against the chunk's math written with numpy (~1e-15).
# Written by helper f4k before the kernel ever ran on a GPU (bench-runs/f4k-1 then found the outputs bit for bit equal).
import numpy as np
rng=np.random.default_rng(1)
W16=lambda m: np.exp(-2j*np.pi*m/16)
W256=lambda m: np.exp(-2j*np.pi*m/256)
L=[(l>>2,l&3) for l in range(32)]
def SIDX(i): return i+(i>>5)
def mma(d,A,B):  # d[lane][4] += A (16x16) @ B (16x8); A[lane][4] pairs, B[lane][2] pairs
    Am=np.zeros((16,16),complex); Bm=np.zeros((16,8),complex)
    for l,(g,t) in enumerate(L):
        for i in range(4):
            r=g+8*(i&1); c=2*t+8*(i>>1); Am[r,c]=A[l][i][0]; Am[r,c+1]=A[l][i][1]
        for i in range(2):
            r=2*t+8*i; Bm[r,g]=B[l][i][0]; Bm[r+1,g]=B[l][i][1]
    D=Am@Bm
    return [[d[l][q]+D[g+8*(q>>1),2*t+(q&1)] for q in range(4)] for l,(g,t) in enumerate(L)]
Z4=lambda: [[0]*4 for _ in range(32)]
def trans(a):  # a[lane] pair: row g, cols 2t,2t+1 -> transposed
    M=np.zeros((8,8),complex)
    for l,(g,t) in enumerate(L): M[g,2*t]=a[l][0]; M[g,2*t+1]=a[l][1]
    return [(M[2*t,g],M[2*t+1,g]) for (g,t) in L]
neg=lambda p:(-p[0],-p[1])
# fragments: re/im parts
def fragA(sign=1):
    re=[];im=[]
    for (g,t) in L:
        rr=[];ii=[]
        for i in range(4):
            row=g+8*(i&1); col=2*t+8*(i>>1); w0=W16(row*col%16); w1=W16(row*(col+1)%16)
            rr.append((sign*w0.real,sign*w1.real)); ii.append((sign*w0.imag,sign*w1.imag))
        re.append(rr); im.append(ii)
    return re,im
def fragB(swap=False):
    re=[];im=[]
    for (g,t) in L:
        rr=[[None,None],[None,None]];ii=[[None,None],[None,None]]
        for j in range(2):
            for q in range(2):
                row=2*t+8*q; col=8*j+((g^(g>>2)) if swap else g); w0=W16(row*col%16); w1=W16((row+1)*col%16)
                rr[j][q]=(w0.real,w1.real); ii[j][q]=(w0.imag,w1.imag)
        re.append(rr); im.append(ii)
    return re,im
tw=[[W256(((g+8*(q>>1))*(8*j+2*t+(q&1)))%256) for j in range(2) for q in range(4)] for (g,t) in L]  # [lane][4j+q]
Kspec=rng.standard_normal(256)+1j*rng.standard_normal(256); d=0.37; conj=-1.0; sp=1/256
zr0=np.zeros(264); zi0=np.zeros(264)
for x in range(256): zr0[SIDX(x)]=rng.standard_normal(); zi0[SIDX(x)]=rng.standard_normal()
def cmplx_pairs(P): return P
def mmaB_split(d, A, Bre_pairs):  # helper: B given per lane as list of 2 pairs
    return mma(d,A,Bre_pairs)
def run(ru):
    zr=zr0.copy(); zi=zi0.copy()
    Fre,Fim=fragA(-1 if ru else 1)
    Gre,Gim=fragB(False); Sre,Sim=fragB(True)
    # loads
    xr=[[None]*2 for _ in range(2)]; xi=[[None]*2 for _ in range(2)]
    XR={}; XI={}
    for j in range(2):
        for h in range(2):
            XR[j,h]=[];XI[j,h]=[]
            for l,(g,t) in enumerate(L):
                if not ru:
                    i0=SIDX((2*t+8*h)*16+8*j+g); i1=SIDX((2*t+8*h+1)*16+8*j+g)
                    XR[j,h].append((zr[i0],zr[i1])); XI[j,h].append((zi[i0],zi[i1]))
                else:
                    s=t>>1; offA=33*t+g+16*s; offB=33*t+g+16-16*s; c=132*h+8*j
                    a=(zr[offA+c],zi[offA+c]); b=(zr[offB+c],zi[offB+c])
                    if s==0: XR[j,h].append((a[0],b[0])); XI[j,h].append((a[1],b[1]))
                    else: XR[j,h].append((b[0],a[0])); XI[j,h].append((b[1],a[1]))
    Bof=lambda X,j:[[X[j,0][l],X[j,1][l]] for l in range(32)]
    yr=[None]*32; yi=[None]*32
    Y=[[None]*4 for _ in range(32)]; Yi=[[None]*4 for _ in range(32)]
    for j in range(2):
        dr=Z4(); di=Z4()
        dr=mma(dr,Fre,Bof(XR,j)); dr=mma(dr,Fim,[[neg(p) for p in b] for b in Bof(XI,j)])
        di=mma(di,Fre,Bof(XI,j)); di=mma(di,Fim,Bof(XR,j))
        for l in range(32):
            a=[0]*4;b=[0]*4
            for q in range(4):
                w=tw[l][4*j+q]; a[q]=dr[l][q]*w.real-di[l][q]*w.imag; b[q]=dr[l][q]*w.imag+di[l][q]*w.real
                if not ru: pass  # FOLD: scale 1
            Y[l][2*j]=(a[0],a[1]); Y[l][2*j+1]=(a[2],a[3]); Yi[l][2*j]=(b[0],b[1]); Yi[l][2*j+1]=(b[2],b[3])
    Yn=[[neg(p) for p in Yi[l]] for l in range(32)]
    def mmaf16(BR,BI,j,xr_,xi_,xn_,fwd):
        br=[[BR[l][j][0],BR[l][j][1]] for l in range(32)]; bi=[[BI[l][j][0],BI[l][j][1]] for l in range(32)]
        dr=mma(Z4(),xr_,br); dr=mma(dr,xn_ if fwd else xi_,bi); di=mma(Z4(),xr_ if fwd else xn_,bi); di=mma(di,xi_,br); return dr,di
    # og's mma_f16 uses F.re[j],F.re[j+2] = B layout: identical to G (checked below)
    Pr=[[None]*4 for _ in range(32)]; Pi=[[None]*4 for _ in range(32)]
    for j in range(2):
        dr,di=mmaf16(Gre,Gim,j,Y,Yi,Yn,True)
        for l,(g,t) in enumerate(L):
            a=[0]*4;b=[0]*4
            for q in range(4):
                kidx=g*16+2*t+128*(q>>1)+8*j+(q&1); kv=Kspec[kidx]
                if not ru:
                    kw=(kv.real+d, kv.imag*conj); x=dr[l][q]*sp; y=di[l][q]*sp
                else:
                    kw=((kv.real)*(-sp)+(-(d*sp)), kv.imag*(-(conj*sp))); x=dr[l][q]; y=di[l][q]
                a[q]=x*kw[0]-y*kw[1]; b[q]=x*kw[1]+y*kw[0]
            Pr[l][2*j]=(a[0],a[1]); Pr[l][2*j+1]=(a[2],a[3]); Pi[l][2*j]=(b[0],b[1]); Pi[l][2*j+1]=(b[2],b[3])
    Pn=[[neg(p) for p in Pr[l]] for l in range(32)]
    Wr=[[None]*4 for _ in range(32)]; Wi=[[None]*4 for _ in range(32)]
    for j in range(2):
        dr,di=mmaf16(Gre,Gim,j,Pr,Pi,Pn,False)
        A=[];B=[]
        for l in range(32):
            a=[0]*4;b=[0]*4
            for q in range(4):
                w=tw[l][4*j+q]; a[q]=dr[l][q]*w.real+di[l][q]*w.imag; b[q]=di[l][q]*w.real-dr[l][q]*w.imag
            A.append(a);B.append(b)
        for h in range(2):
            tr=trans([(A[l][2*h],A[l][2*h+1]) for l in range(32)]); ti=trans([(B[l][2*h],B[l][2*h+1]) for l in range(32)])
            for l in range(32): Wr[l][2*h+j]=tr[l]; Wi[l][2*h+j]=ti[l]
    Wn=[[neg(p) for p in Wr[l]] for l in range(32)]
    for j in range(2):
        BR,BI=(Sre,Sim) if ru else (Gre,Gim)
        dr,di=mmaf16(BR,BI,j,Wr,Wi,Wn,False)
        for l,(g,t) in enumerate(L):
            for q in range(4):
                if not ru: idx=SIDX((8*j+2*t+(q&1))*16+g+8*(q>>1))
                else:
                    s=t>>1; offA=33*t+g+16*s; offB=33*t+g+16-16*s; idx=((offB if q&1 else offA))+132*j+8*(q>>1)
                zr[idx]=dr[l][q].real; zi[idx]=di[l][q].real
    return zr,zi
# og's F.re[j], F.re[j+2] == G.re[j][0..1]?
Fre,Fim=fragA(1); Gre,Gim=fragB(False)
print('B layout == A regs (j, j+2):',all(np.allclose(Fre[l][j],Gre[l][j][0]) and np.allclose(Fre[l][j+2],Gre[l][j][1]) for l in range(32) for j in range(2)))
a=run(False); b=run(True)
print('max |og - ru|',max(np.abs(a[0]-b[0]).max(),np.abs(a[1]-b[1]).max()),'max |og|',np.abs(a[0]).max())
# reference: the chunk math directly
X=np.array([zr0[SIDX(x)]+1j*zi0[SIDX(x)] for x in range(256)]).reshape(16,16)
F=np.array([[W16(r*c%16) for c in range(16)] for r in range(16)]); T=np.array([[W256(r*c) for c in range(16)] for r in range(16)])
Yr=(F@X)*T; Zr=Yr@F; Pm=Zr*(Kspec.real+d+1j*Kspec.imag*conj).reshape(16,16)*sp
Wm=(Pm@F.conj())*T.conj(); Vm=F.conj()@Wm
ref=np.array([Vm.reshape(-1)[x] for x in range(256)])
got=np.array([a[0][SIDX(x)]+1j*a[1][SIDX(x)] for x in range(256)])
print('og vs direct',np.abs(got-ref).max())
