# YouTube-VOS 2019 valid, same layout as 2018.
_base_ = './ytvos2018_val.py'

test_dataloader = dict(dataset=dict(data_root='data/youtube_vos_2019'))
