"""The demo media: the same seed gives the same bytes (golden file CIDs), and the files are
what their names say (sizes, formats, EXIF orientation and GPS, clips, PDF pages)."""

import io
import json
import subprocess
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image

from mstack_client.cid import file_cid
from seeder import media

# Hard-coded: a change to the drawing, the encoders' settings or the pinned Pillow or ffmpeg
# changes these, and must be deliberate (the demo's files are the same on every machine).
GOLDEN = {
    "01-lantern.jpg": "bafkr4igt33hxolznbazcvgpjrww27vxuy3omw2trrphmzkgbp2d5i5ai4m",
    "02-glacier.jpg": "bafkr4ie2zzb3zshljlp6sp76yg4cmp3lmau6zzge7irrc5kfke3zrp3s2a",
    "03-dawn.jpg": "bafkr4icb2t7sv77kenu6f6umnuvqbgfminqqz65gb24ow5cynz75xzgtdq",
    "04-glacier.jpg": "bafkr4ihgwsioqdbbyhchjwspeb6ymbp3cng5mqaiq4ktgsd3ivfj25ore4",
    "05-tide.jpg": "bafkr4ib4zxbj5ecgc7qdq6zlx4pv5o6kw3hv2nfiqf44pyztqajieb4btu",
    "06-harbour.jpg": "bafkr4iaithray6b2vdl3h4boqmq5nplg53awvel5rtfal5dlaxcrrihveq",
    "07-ember.png": "bafkr4iges7dmylelie3x6gozh2ckfqg4gr3y2jhnd7i557dsc36j2p2f5a",
    "08-orchard.png": "bafkr4idrimpxmimp3rflhcvbolv6vnyqjgbdojtqcjsvlh7pkfnepp7qyq",
    "09-heron.png": "bafkr4ih2rsxj5fp523v5lpufhcledgcrzgd2ldutu4mp3ibxsghyz5j6gu",
    "10-moss.png": "bafkr4ic2z4cwe6zogeij7btvdriqb5juyaokvqbkxbu6ceorhwdlpqnvdm",
    "11-beacon.webp": "bafkr4igeu4swtgtdo674fsw2ys6xxxc3uc6rcvfiwctf7rqupyqsrqhwlq",
    "12-glacier.webp": "bafkr4iekrwuswoug7ayaq25ygjro7y7wtzt5k6bruogxuepnspmcdatotq",
    "13-drift.webp": "bafkr4iaf7b7qgajor5w4gu7i5z5sub4umh3l6y5fakl32x57frank7pfoa",
    "14-granite.tif": "bafkr4ifb67nawxvgp7443rbqyyrqo3lxo5x7sg47fyzoexkcbtek3tbi6y",
    "15-willow.tif": "bafkr4ig2azshn6damttzalqlxr5rj5qh7qkfqg4rp5uslut3pzp3gllr4m",
    "16-moss.jpg": "bafkr4iaxtxmcqqb7q5v55pzf7qc3qbnyksm4ih23eijoh6eqtjttbodchy",
    "17-beacon.jpg": "bafkr4igoz4lbbm42eaopc544a5wg7sbmlls2kofwvtmdbheo3vxw6x7j6i",
    "18-ember.jpg": "bafkr4ibf7vsd5wkiqwfp2vjtizjuh6fmfkkqhp75zlvjeqg5nkfmsfpzgm",
    "19-dawn.png": "bafkr4igfzwf6ymkhjke6yo5ioppurlczt44canyuvcuudautqbh5efmzwy",
    "20-beacon.png": "bafkr4iazuu3as72fp2luuznimhpyylsuuujduv2yjip2ywb2yozalx3g7e",
    "21-lantern.webp": "bafkr4ig7qqvu2bl3n3bafxlqqgry7znjq4mc3ethip4ftyvh24gq6tqbym",
    "22-tide.tif": "bafkr4ia5xel7b5okaqesd47ckocupxffis6on3mof6codhjergdrn2mye4",
    "23-lantern.jpg": "bafkr4ibepe4zmyy6lyrzbrtcelebpxjpetb6kzhbt4po6elivfqsh65hxq",
    "24-tide.jpg": "bafkr4ibiwwl3x6qlgionjzvkvc3xkm22cnicw4olqcmrmjvgxv3bym4aya",
    "clip-1-rgbtestsrc.mp4": "bafkr4ibb3ni7mqzkuvkbzkfxfesg7xk44rxlytmh7t2hzmk2vofh7rs4xq",
    "clip-2-smptebars.mp4": "bafkr4idbxleca7e3toy6awzz7eq3fgbbkh6e7vu3fkj4y6vdo5d7ygo574",
    "clip-3-testsrc2.mp4": "bafkr4ib3x3gttdy2yhvc2i2hiykqlszxlws4exu2sq32wuzuzyigg652yq",
    "1-exhibition-notes.pdf": "bafkr4ihzygsnui4t3fkj5fudzth5nljo6zdxzel6q5fkq3tuwier2a2nzi",
    "2-catalogue.pdf": "bafkr4icuvqgi63lxzlow4dztyaou5mdr6kn5n2vatrlbtxfbjuth524ike",
    "3-price-list.pdf": "bafkr4iblvlcmjqvutmacxondknjyuv7slj7f62qvqdu4ms2tkxkpak7xsa",
    "broken-image.jpg": "bafkr4ias6eczhpxbva6gll6q6vglbu7tqbylm5bwnrmsbf3fpy7uoysinm",
    "broken-video.mp4": "bafkr4iaiidjtuqe5abfmxdqbsadcbg2lvs5uvghp53wkeu6yoflt64cpgi",
    "broken-document.pdf": "bafkr4ihhxqdreu2w5oogxrmsdvujce2ovsvh3ooxgsfclnx4w7ae7lccxu",
    "refused-program.exe": "bafkr4iawl4k5albssyecizunf4us5gp64wfgju2hssha4o6xu64lum3uli",
}


@pytest.fixture(scope="module")
def made() -> list[media.Medium]:
    return media.demo_media(0)


def test_the_same_seed_gives_the_same_files(made: list[media.Medium]) -> None:
    assert {m.name: file_cid(m.data) for m in made} == GOLDEN


def test_another_seed_gives_other_images() -> None:
    ours = {file_cid(m.data) for m in media.images(0)}
    theirs = {file_cid(m.data) for m in media.images(7)}
    assert len(theirs) == len(media.images(7)) == 24
    assert not ours & theirs


def test_every_kind_is_there(made: list[media.Medium]) -> None:
    kinds = [m.kind for m in made]
    assert kinds.count("image") == 24
    assert kinds.count("video") == 3
    assert kinds.count("document") == 3
    assert {m.content_type for m in made if m.kind == "image"} == {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/tiff",
    }
    assert sorted(m.name for m in made if m.kind in ("broken", "refused")) == [
        "broken-document.pdf",
        "broken-image.jpg",
        "broken-video.mp4",
        "refused-program.exe",
    ]
    assert len({m.name for m in made}) == len(made)


def test_images_decode_with_their_sizes_and_exif(made: list[media.Medium]) -> None:
    shown = {}
    for m in (m for m in made if m.kind == "image"):
        with Image.open(io.BytesIO(m.data)) as image:
            image.load()
            exif = image.getexif()
            shown[m.name] = (image.format, image.size, exif.get(0x0112), 0x8825 in exif)
    assert shown["03-dawn.jpg"] == ("JPEG", (1024, 768), 6, False)
    assert shown["04-glacier.jpg"] == ("JPEG", (640, 480), 3, True)
    assert shown["02-glacier.jpg"] == ("JPEG", (800, 1200), None, True)
    assert shown["11-beacon.webp"][:2] == ("WEBP", (1000, 1000))
    assert shown["14-granite.tif"][:2] == ("TIFF", (800, 600))
    assert sum(1 for s in shown.values() if s[2] in (3, 6, 8)) == 4
    assert sum(1 for s in shown.values() if s[3]) == 5


def test_broken_image_does_not_decode(made: list[media.Medium]) -> None:
    broken = next(m for m in made if m.name == "broken-image.jpg")
    with Image.open(io.BytesIO(broken.data)) as image, pytest.raises(OSError):
        image.load()


def test_clips_are_h264_with_their_sizes(made: list[media.Medium], tmp_path: Path) -> None:
    ffprobe = media.tool("ffprobe")
    found = {}
    for m in (m for m in made if m.kind == "video"):
        path = tmp_path / m.name
        path.write_bytes(m.data)
        out = subprocess.run(
            [ffprobe, "-v", "error", "-show_streams", "-of", "json", str(path)],
            check=True,
            capture_output=True,
        )
        streams = json.loads(out.stdout)["streams"]
        video = next(s for s in streams if s["codec_type"] == "video")
        found[m.name] = (video["codec_name"], video["width"], video["height"], len(streams))
    assert sorted(found.values()) == [
        ("h264", 320, 240, 2),
        ("h264", 360, 640, 1),
        ("h264", 640, 360, 2),
    ]


def test_pdfs_have_their_pages_and_text(made: list[media.Medium]) -> None:
    pages = {}
    for m in (m for m in made if m.kind == "document"):
        pdf = pypdfium2.PdfDocument(m.data)
        pages[m.name] = len(pdf)
        assert "page 1" in pdf[0].get_textpage().get_text_range()
        pdf.close()
    assert pages == {"1-exhibition-notes.pdf": 1, "2-catalogue.pdf": 3, "3-price-list.pdf": 2}
