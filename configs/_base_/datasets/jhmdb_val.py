# JHMDB split 1 test videos (the pose-propagation validation set), scored
# as CRW's eval_pck does: the 15 joints of the first frame (pos_img - 1,
# inside the frame or not) are propagated to every frame; every joint of
# every later frame is scored unless its prediction is lost (then it is
# skipped), by PCK@0.1 and PCK@0.2 relative to 0.6 x the diagonal of the box
# around the frame's annotated joints that have a prediction.
# LoadVideoKeypoints(inside_only=True) and PCKMetric(protocol='strict') give
# the stricter variant (joints outside the frame ignored, lost joints wrong).
_base_ = './video_test_dataloader.py'

dataset_type = 'JHMDBDataset'
data_root = 'data/JHMDB'

test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoKeypoints', num_joints=15),
    # The protocol encodes 320 x 320 frames (40 x 40 feature grid at stride
    # 8); keypoints stay in the original pixel coordinates.
    dict(type='ResizeVideo', scale=(320, 320)),
    dict(type='PackKeypointVideoInputs'),
]

test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split=1,
        pipeline=test_pipeline))

test_evaluator = dict(
    type='PCKMetric', thresholds=(0.1, 0.2), protocol='crw')
