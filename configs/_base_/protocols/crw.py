# CRW's propagation protocol (videowalk's README: test.py --topk 10
# --videoLen 20 --radius 12 --temperature 0.05 --cropSize -1): HVC's rule
# (./hvc.py) with the top 10 of the first frame plus the previous 20 frames
# (padded with copies of the first frame) and CRW's training temperature
# 0.05.
_base_ = './hvc.py'

protocol = dict(propagator=dict(topk=10, temperature=0.05, context_size=20))
