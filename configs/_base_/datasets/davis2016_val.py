# DAVIS-2016 val: the 2017 release's files, every object merged into id 1.
_base_ = './davis2017_val.py'

test_dataloader = dict(dataset=dict(year='2016'))
test_evaluator = dict(split='2016-val')
