"""Corrections written into data/nlu as a person would: the YAML round trip, placeholders,
duplicates, validation with restore, one commit per batch, and two trainers saving at once."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from bot.trainer import privacy
from bot.trainer.writer import Correction, DataSet, SaveRefused, domain_intents, render, save
from tests.unit.trainer_project import ROOT, make_project, run


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


def _diff_lines(project):
    diff = run(project, "diff", "HEAD~1", "HEAD", "--unified=0")
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_placeholders_replace_personal_data_before_saving():
    line = render(Correction("我叫王小明 电话13912345678 订单1001000000000004还没发货", "shipping_delay"))
    assert "13912345678" not in line and "1001000000000004" not in line and "王小明" not in line
    assert privacy.PHONE_PLACEHOLDER in line and privacy.ORDER_PLACEHOLDER in line and "某某" in line


def test_entities_by_span_become_annotations_and_follow_the_script():
    text = "訂單1001000000000004的顏色不對"
    line = render(Correction(text, "color_mismatch", [{"start": 2, "end": 18, "entity": "order_id"}]))
    assert line == f"订单[{privacy.ORDER_PLACEHOLDER}](order_id)的颜色不对"


def test_overlapping_entities_are_refused():
    with pytest.raises(SaveRefused):
        render(Correction("退货 退货", "request_return", [{"start": 0, "end": 2, "entity": "color"},
                                                          {"start": 1, "end": 3, "entity": "size"}]))


def test_batch_is_added_to_the_intents_own_files_touching_only_added_lines(project):
    before = {p.name: p.read_text() for p in (project / "data" / "nlu").glob("*.yml")}
    result = save(project, [Correction("这鞋子我想退 能帮忙吗", "request_return"),
                            Correction("快递三天没动了 13912345678", "shipping_delay")],
                  trainer="Li Wei", message="NLU: two messages from the inbox")
    assert [f for f, _ in result.added] == ["returns.yml", "orders.yml"]
    assert result.commit
    diff = _diff_lines(project)
    assert sorted(diff) == sorted(["+      - 这鞋子我想退 能帮忙吗", "+      - 快递三天没动了 13800000000"])
    log = run(project, "log", "-1", "--format=%an|%s|%H")
    assert log.strip() == f"Li Wei|NLU: two messages from the inbox|{result.commit}"
    # comments and everything else unchanged: removing the added lines gives the old files back
    for name, text in before.items():
        now = (project / "data" / "nlu" / name).read_text()
        kept = "".join(line for line in now.splitlines(True) if line.strip() not in
                       ("- 这鞋子我想退 能帮忙吗", "- 快递三天没动了 13800000000"))
        assert kept == text
    assert "request_return" == DataSet(project).seen[privacy.normalise("这鞋子我想退，能帮忙吗？")]


def test_duplicates_after_normalisation_are_skipped_without_a_commit(project):
    head = run(project, "rev-parse", "HEAD")
    result = save(project, [Correction("可以退貨嗎", "request_return"),      # 可以退货吗 in Traditional
                            Correction("我要退货！！", "request_return"),      # punctuation only
                            Correction("我要退货", "ask_human")],            # another intent's example
                  trainer="Li Wei")
    assert result.added == [] and len(result.skipped) == 3
    assert "request_return" in result.skipped[2][1]
    assert run(project, "rev-parse", "HEAD") == head
    assert run(project, "status", "--porcelain") == ""


def test_a_change_that_breaks_validation_is_refused_and_the_file_restored(project):
    returns = project / "data" / "nlu" / "returns.yml"
    before = returns.read_text()
    # the intent is known to the data (so the writer places it) but not to the domain
    returns.write_text(before + "  - intent: not_in_domain\n    examples: |\n      - 随便一句话\n")
    run(project, "-c", "user.name=seed", "-c", "user.email=s@l", "commit", "-q", "-am", "broken on purpose")
    staged = returns.read_text()
    head = run(project, "rev-parse", "HEAD")
    with pytest.raises(SaveRefused) as refused:
        save(project, [Correction("另一句完全不同的话", "not_in_domain")], trainer="Li Wei")
    assert "not_in_domain" in refused.value.reason
    assert returns.read_text() == staged
    assert run(project, "rev-parse", "HEAD") == head


def test_an_unknown_intent_is_skipped_with_the_reason(project):
    result = save(project, [Correction("随便说说", "no_such_intent")], trainer="Li Wei")
    assert result.added == [] and "no_such_intent" in result.skipped[0][1]


def test_two_trainers_saving_at_once_lose_neither_change(project):
    """One trainer in another process, one in a thread of this one, both saving the same file."""
    other = subprocess.Popen([sys.executable, "-c", (
        "import sys; from bot.trainer.writer import Correction, save; "
        "save(sys.argv[1], [Correction('颜色跟图片差太多了吧这也', 'color_mismatch')], trainer='A')"),
        str(project)], cwd=ROOT)
    errors = []

    def here():
        try:
            save(project, [Correction("码数偏小一码半 穿不上", "size_mismatch")], trainer="B")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=here)
    thread.start()
    thread.join()
    assert other.wait(timeout=300) == 0
    assert errors == []
    product = (project / "data" / "nlu" / "product.yml").read_text()
    assert "- 颜色跟图片差太多了吧这也" in product and "- 码数偏小一码半 穿不上" in product
    assert sorted(run(project, "log", "--format=%an").split()) == ["A", "B", "seed"]
    assert run(project, "status", "--porcelain") == ""


def test_domain_intents_for_the_searchable_list():
    intents = domain_intents()
    assert "request_return" in intents and "ask_human" in intents and intents == sorted(intents)


def test_messages_of_the_test_sets_never_enter_training(project):
    (project / "tests" / "nlu").mkdir(parents=True)
    (project / "tests" / "nlu" / "heldout.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - 哈喽哈喽有人没\n')
    result = save(project, [Correction("哈喽哈喽，有人没？", "greet")], trainer="Li Wei")
    assert result.added == [] and "heldout.yml" in result.skipped[0][1]
