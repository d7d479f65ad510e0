"""Fake but plausible Chinese personal data and free text.

Everything here is invented from small character lists, so it cannot be a real
person's data, yet it looks like what the pipeline must mask: names, 11-digit
mobiles, addresses and order texts that sometimes quote a name or a phone.
"""

from __future__ import annotations

import numpy as np

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
GIVEN_NAME_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华玉萍红玲芬燕春菊兰凤洁梅琳云莲雪荣爱香月瑞佳嘉琼珍"
    "莉晶妍秋珊青倩婷颖露瑶怡丹蓉君琴薇梦岚悦冰宁欣晓欢枫亚宜舒阳宝鸿剑浩宇雨忠国建志文斌鹏飞辉波庆东海"
)
PLACE_CHARS = list(
    "东西南北王李张龙凤泉山河湖桥庄集店官城新安平和林马石柳杨高孙黄白金青长大双古兴仁义孝文明徐刘陈宋田"
    "朱周吴郭韩齐鲁泰沂汶淄潍莱岱峄崂蒙汇临丰富华宁福乐康兴旺盛开永吉祥"
)
ROAD_SUFFIX = ("路", "街", "大道")
MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
     166, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 198, 199],
    dtype=np.int64,
)  # fmt: skip
MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"

_SURNAME_WEIGHTS = 1.0 / (np.arange(len(SURNAMES)) + 8.0)
_SURNAME_WEIGHTS /= _SURNAME_WEIGHTS.sum()

CONTENT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "outage": (
        "客户反映家中突然停电，请尽快派人处理",
        "客户反映所在小区整片停电，已持续一段时间",
        "客户反映{address}附近停电，询问恢复时间",
        "客户反映家中频繁停电，影响正常生活",
    ),
    "power_quality": (
        "客户反映电压偏低，灯光闪烁，电器无法正常使用",
        "客户反映{address}电压不稳，要求检查线路",
    ),
    "billing": (
        "客户对本月电费有疑问，认为电量异常偏高",
        "客户反映已缴电费未到账，要求核实",
        "客户询问阶梯电价计费标准",
    ),
    "business_expansion": (
        "客户申请新装用电，询问办理进度",
        "客户申请增容，反映办理时间过长",
        "客户咨询{address}新装用电所需材料",
    ),
    "metering": (
        "客户反映电能表走字过快，要求校验",
        "客户反映电能表显示异常",
    ),
    "service_attitude": (
        "客户反映工作人员服务态度差，要求处理",
        "客户表扬抢修人员工作认真负责",
        "客户反映营业厅等候时间过长",
    ),
    "other": (
        "客户来电反映其他用电问题",
        "客户反映线路附近树木存在安全隐患",
        "客户建议增加线上缴费渠道",
    ),
}


def names(rng: np.random.Generator, n: int) -> list[str]:
    surnames = rng.choice(len(SURNAMES), size=n, p=_SURNAME_WEIGHTS)
    first = rng.integers(0, len(GIVEN_NAME_CHARS), n)
    second = rng.integers(
        -len(GIVEN_NAME_CHARS) // 2, len(GIVEN_NAME_CHARS), n
    )  # negative: one-character name
    return [
        SURNAMES[s] + GIVEN_NAME_CHARS[f] + (GIVEN_NAME_CHARS[g] if g >= 0 else "")
        for s, f, g in zip(surnames.tolist(), first.tolist(), second.tolist(), strict=True)
    ]


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """11-digit mainland mobile numbers as strings."""
    prefix = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return (prefix * 100_000_000 + rng.integers(0, 100_000_000, n)).astype(str).astype(object)


def place_names(rng: np.random.Generator, n: int, length: int = 2) -> list[str]:
    """n distinct made-up place names of `length` characters."""
    chosen: list[str] = []
    seen: set[str] = set()
    while len(chosen) < n:
        codes = rng.integers(0, len(PLACE_CHARS), (n, length))
        for row in codes.tolist():
            name = "".join(PLACE_CHARS[c] for c in row)
            if name not in seen:
                seen.add(name)
                chosen.append(name)
                if len(chosen) == n:
                    break
    return chosen


def addresses(rng: np.random.Generator, place_prefix: str, urban: bool, n: int) -> list[str]:
    streets = place_names(rng, 6)
    street = rng.integers(0, len(streets), n).tolist()
    number = rng.integers(1, 300, n).tolist()
    if urban:
        suffix = rng.integers(0, len(ROAD_SUFFIX), n).tolist()
        unit = rng.integers(1, 7, n).tolist()
        room = rng.integers(101, 1802, n).tolist()
        return [
            f"{place_prefix}{streets[s]}{ROAD_SUFFIX[x]}{k}号{u}单元{r}室"
            for s, x, k, u, r in zip(street, suffix, number, unit, room, strict=True)
        ]
    return [f"{place_prefix}{streets[s]}村{k}号" for s, k in zip(street, number, strict=True)]


def order_contents(
    rng: np.random.Generator,
    categories: np.ndarray,
    addresses_or_none: list[str | None],
    personal_share: float,
) -> list[str]:
    """Free text per order; a share quotes the caller's name or another phone number."""
    from service_risk.simulator.profile import CATEGORIES

    n = len(categories)
    pick = rng.random(n)
    personal = rng.random(n)
    kind = rng.random(n)
    quoted_names = names(rng, n)
    quoted_phones = mobiles(rng, n)
    texts = []
    for i, category in enumerate(categories.tolist()):
        templates = CONTENT_TEMPLATES[CATEGORIES[category]]
        text = templates[int(pick[i] * len(templates))]
        address = addresses_or_none[i]
        text = text.replace("{address}", address if address else "所在小区")
        if personal[i] < personal_share:
            if kind[i] < 0.5:
                text += f"，联系电话{quoted_phones[i]}"
            else:
                text = f"客户{quoted_names[i]}来电，" + text.removeprefix("客户")
        texts.append(text)
    return texts
