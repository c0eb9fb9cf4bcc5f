"""The cascade detector (detect/cascade.py): YuNet proposes, CenterFace decides, on real photos."""

from __future__ import annotations

import numpy as np
from PIL import Image

from bipacheck.detect import cascade as cascade_module
from bipacheck.detect.base import iou
from tests.images import rgb
from tests.test_detect import ASTRONAUT_FACE


def test_the_scores_and_boxes_are_centerfaces(cascade, centerface):
    photo = rgb("astronaut")
    (mine,) = cascade.detect(photo)
    (theirs,) = centerface.detect(photo)
    assert iou(mine.box, theirs.box) > 0.8
    assert abs(mine.score - theirs.score) < 0.15  # CenterFace on a crop, not on the whole photo


def test_proposals_centerface_does_not_confirm_are_dropped(cascade):
    # YuNet at its low proposal threshold sees faces in stars, the moon and a cat; CenterFace does not
    for name in ("hubble_deep_field", "moon", "chelsea", "coffee"):
        photo = rgb(name)
        assert cascade.network.proposer.detect(photo), name
        assert cascade.network.detect(photo) == [], name


def test_more_faces_than_one_batch_are_all_found(cascade):
    # 9 x 8 astronauts: 72 proposals, more than one network call's BATCH of crops
    tile = np.asarray(Image.fromarray(rgb("astronaut")).resize((256, 256)))
    grid = np.vstack([np.hstack([tile] * 9)] * 8)
    assert 72 > cascade_module.BATCH
    faces = cascade.network.detect(np.ascontiguousarray(grid))
    cells = {(f.x // 256, f.y // 256) for f in faces}
    assert len(faces) == 72 and len(cells) == 72


def test_a_face_at_the_edge_gets_a_box_inside_the_photo(cascade):
    # the astronaut cut so the face touches the left edge: the crop around it is padded with black
    photo = np.ascontiguousarray(rgb("astronaut")[:, ASTRONAUT_FACE[0] + 20:])
    (face,) = cascade.detect(photo)
    assert face.x == 0 and face.x + face.w <= photo.shape[1]
    assert iou(face.box, [0, ASTRONAUT_FACE[1], ASTRONAUT_FACE[2] - 20, ASTRONAUT_FACE[3]]) > 0.5


def test_both_models_and_the_crop_key_the_results(cascade):
    settings = cascade.settings()
    assert settings["detector"] == "cascade"
    assert settings["proposer"]["detector"] == "yunet" and settings["verifier"]["detector"] == "centerface"
    assert settings["proposer"]["model_sha256"] != settings["verifier"]["model_sha256"]
    assert settings["crop"] == {"pad": cascade_module.PAD, "side": cascade_module.CROP_SIDE,
                                "match": cascade_module.MATCH}
    assert "passes" in settings  # sizes, tiles and turned views as for the default
