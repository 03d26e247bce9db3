# HVC, ResNet-18, trained on the PASCAL VOC 2012 photographs (JPEGImages of
# VOCtrainval_11-May-2012.tar, no labels read); everything else is the COCO
# setting of hvc_r18_coco.py. DAVIS-2017 val: 72.0 J&F in the paper.
_base_ = './hvc_r18_coco.py'

data_root = 'data/VOCdevkit/VOC2012'
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            data_root=data_root, data_prefix=dict(img_path='JPEGImages'))))
