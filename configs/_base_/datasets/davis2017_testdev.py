# DAVIS-2017 test-dev: first-frame masks only; writes the masks for the
# evaluation server (no local scores).
_base_ = './davis2017_val.py'

data_root = 'data/DAVIS-test-dev'
test_dataloader = dict(dataset=dict(data_root=data_root, split='test-dev'))
test_evaluator = dict(type='DAVISMetric', format_only=True, split='test-dev')
