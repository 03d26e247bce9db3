# The paper's schedule: Adam, constant learning rate 1e-3, no weight decay,
# 20 epochs. AMP is requested here and used on GPUs; tools/train.py falls
# back to float32 on a machine without CUDA.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
param_scheduler = []

# The paper trains with batch 128 on one GPU; with N processes, set
# train_dataloader.batch_size to 128 // N to keep it.
auto_scale_lr = dict(base_batch_size=128, enable=False)
