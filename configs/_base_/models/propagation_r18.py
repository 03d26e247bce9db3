# Test-time label propagation with the HVC ResNet-18 encoder
# (./propagation_hvc_r18.py) under HVC's protocol (../protocols/hvc.py). The
# propagator's backend is the dense masked top-k on CUDA and the windowed
# one (same result, less work) on the CPU.
_base_ = ['./propagation_hvc_r18.py', '../protocols/hvc.py']

model = dict(**_base_.protocol)
