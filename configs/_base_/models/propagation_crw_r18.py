# CRW's encoder (Jabri et al. 2020, videowalk's pretrained.pth) for label
# propagation: the architecture of ./propagation_hvc_r18.py (CRW's test
# script also removes layer4 and sets layer3's stride to 1: 256 channels at
# output stride 8, full-resolution frames, ImageNet normalisation), its
# weights read in CRW's layout. Pair it with a protocol from ../protocols/
# (CRW's own: crw.py).
_base_ = './propagation_hvc_r18.py'

model = dict(checkpoint_layout='crw')
