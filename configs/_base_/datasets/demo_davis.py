# The generated demo videos in DAVIS layout
# (tools/dataset_converters/make_demo_davis.py data/demo_davis).
_base_ = './davis2017_val.py'

data_root = 'data/demo_davis'
test_dataloader = dict(
    num_workers=0, dataset=dict(data_root=data_root, split='val'))
