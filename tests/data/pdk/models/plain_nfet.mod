* plain_nfet.mod -- the tt card of models.lib as ONE unbinned card (test fixture reference)
* SPDX-License-Identifier: MIT
* Same numbers as models.lib's fets section at tt (vth0 0.5 V, u0 0.03), no bins:
* any width works, in any compatibility mode.
.model nfet_3v3 nmos level=54 version=4.8
+ toxe=3e-9 toxp=2.7e-9 toxm=3e-9 toxref=3e-9 epsrox=3.9
+ xj=1.5e-7 ndep=1.7e17 lint=1e-8 wint=1e-8
+ vth0=0.5 k1=0.5 k2=0 voff=-0.1 nfactor=1.2 eta0=0.01
+ u0=0.03 vsat=1e5 rdsw=200
+ cgso=2e-10 cgdo=2e-10 cjs=1e-3 cjd=1e-3
+ capmod=2 igcmod=0 igbmod=0 rbodymod=0 rgatemod=0 diomod=1 mobmod=0
