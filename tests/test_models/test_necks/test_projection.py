import pytest
import torch
import torch.nn.functional as F

from mmhvc.models import HVCProjector

torch.set_num_threads(1)


def _bn_eval(x, bn):
    return (x - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
        bn.running_var.view(1, -1, 1, 1) + bn.eps) * bn.weight.view(
            1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)


def _conv1x1(x, conv):
    return torch.einsum('bchw,oc->bohw', x, conv.weight[:, :, 0, 0]) + \
        conv.bias.view(1, -1, 1, 1)


def test_projector_formula():
    torch.manual_seed(0)
    neck = HVCProjector(in_channels=6, hid_channels=5, out_channels=4)
    for bn in (neck.bn1, neck.bn2):
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.)
        bn.weight.data.normal_()
        bn.bias.data.normal_()
    neck.eval()
    x = torch.randn(2, 6, 3, 5)
    with torch.no_grad():
        (out, ) = neck(x)
    r = F.leaky_relu(_bn_eval(_conv1x1(x, neck.conv1), neck.bn1), 0.01)
    y = F.leaky_relu(_bn_eval(_conv1x1(r, neck.conv2) + r, neck.bn2), 0.01)
    expected = _conv1x1(y, neck.conv3)
    assert out.shape == (2, 4, 3, 5)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_tuple_input_uses_last_map():
    neck = HVCProjector(in_channels=8, hid_channels=4, out_channels=3).eval()
    last = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        from_tuple = neck((torch.randn(1, 2, 8, 8), last))
        from_tensor = neck(last)
    assert isinstance(from_tuple, tuple) and len(from_tuple) == 1
    assert torch.equal(from_tuple[0], from_tensor[0])


def test_defaults_and_bad_channels():
    neck = HVCProjector()
    assert neck.conv1.in_channels == 256
    assert neck.conv1.out_channels == neck.conv3.out_channels == 256
    with pytest.raises(ValueError, match='256'):
        neck(torch.randn(1, 512, 4, 4))
