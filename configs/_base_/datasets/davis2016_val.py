# DAVIS-2016 val as the reference evaluates it: the sequences of
# ImageSets/2016/val.txt with the DAVIS-2017 release's multi-object
# annotations, propagated one label channel per object like DAVIS-2017;
# prediction and annotation are merged into one foreground (every object
# id -> 1) only when the masks are written and scored.
_base_ = './davis2017_val.py'

test_dataloader = dict(dataset=dict(year='2016'))
test_evaluator = dict(split='2016-val', merge_objects=True)
