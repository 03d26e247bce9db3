# What the test dataloaders of the video benchmarks share: one sequence per
# item, in list order, each on one rank (no padding of the last batch).
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(test_mode=True))
