"""The submitter's verbs: submit a spec, follow a job, fetch its model, cancel it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from trainyard import runtime as rt
from trainyard.cid import cid_for
from trainyard.errors import SpecError, TrainyardError
from trainyard.market import Market
from trainyard.runtime.data import Submission
from trainyard.spec import JobSpec, canonical_json, load_dataset
from trainyard.spec_core import SpecCore, core_from
from trainyard.store import ContentStore


def dataset_bytes(spec: JobSpec) -> bytes:
    """The dataset as the .npz bytes that are stored, checked against the model and the runtime's bounds."""
    return checked_job(spec)[0].raw


def checked_job(spec: JobSpec, store: ContentStore | None = None) -> tuple[Submission, rt.TrainConfig]:
    """The dataset made ready to store and the training configuration, all checked against the runtime (a ``cid:``
    dataset is read from ``store``)."""
    sub = load_dataset(spec.dataset, store)
    data = sub.data
    if data.n_features != spec.layers[0]:
        raise SpecError(
            f"model.layers: the first width must be the dataset's {data.n_features} features, got {spec.layers[0]}"
        )
    if data.n_classes > spec.layers[-1]:
        raise SpecError(
            f"model.layers: the last width must be at least the dataset's {data.n_classes} classes, "
            f"got {spec.layers[-1]}"
        )
    cfg = rt.TrainConfig.from_spec(spec.layers, asdict(spec.training))
    try:
        rt.validate_config(cfg, data)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return sub, cfg


@dataclass(frozen=True)
class Prepared:
    spec: JobSpec
    dataset_cid: str
    document: bytes
    spec_cid: str
    core: SpecCore
    data: rt.Dataset

    @property
    def spec_hash(self) -> bytes:
        return self.core.spec_hash()


def prepare(spec: JobSpec, store: ContentStore, keep: bool = True) -> Prepared:
    """Check everything and store the data and the spec document (with ``keep=False`` only compute their CIDs,
    storing nothing: a dry run); no transaction yet."""
    sub, cfg = checked_job(spec, store)
    put = store.put if keep else cid_for
    data_cid = put(sub.raw)
    doc = canonical_json(spec.document(data_cid, sub.record))
    return Prepared(spec, data_cid, doc, put(doc), core_from(doc, cfg, sub.data), sub.data)


def check_funds(market: Market, prepared: Prepared, fee: int = 0) -> int:
    """The submitter's balance, refused with the numbers when it cannot pay the escrow (and the verification fee)."""
    have = market.chain.balance()
    need = prepared.spec.market.max_price + fee
    if have < need:
        what = "the job escrows" + (f" {prepared.spec.market.max_price} wei (max_price) plus a {fee} wei "
                                    "verification fee" if fee else f" {need} wei (max_price)")
        raise TrainyardError(f"{market.chain.address} holds {have} wei but {what}")
    return have


def post(market: Market, prepared: Prepared) -> int:
    check_funds(market, prepared)
    return market.post_job(prepared.core, prepared.spec_cid, prepared.spec.training.num_windows, prepared.spec.market)
