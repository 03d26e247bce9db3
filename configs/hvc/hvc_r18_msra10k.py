# HVC, ResNet-18, trained on the MSRA10k photographs (the .jpg files of
# MSRA10K_Imgs_GT/Imgs; the saliency masks beside them, .png, are not
# read); everything else is the COCO setting of hvc_r18_coco.py. DAVIS-2017
# val: 71.1 J&F in the paper.
_base_ = './hvc_r18_coco.py'

data_root = 'data/MSRA10K_Imgs_GT'
train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            data_root=data_root,
            data_prefix=dict(img_path='Imgs'),
            extensions=('.jpg', ))))
