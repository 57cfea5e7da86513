"""bf16 autocast vs fp32 on a bare e5-small forward pass, 3 batches of 32 x 128 tokens (2026-11-29).
Output on 2 cores, AVX-512 BF16, no AMX): bf16_vs_fp32.txt beside this file."""
import torch, time
from transformers import AutoModelForSequenceClassification
from model.bases import resolve_base
import transformers; transformers.logging.set_verbosity_error()
p,_=resolve_base("e5-small"); m=AutoModelForSequenceClassification.from_pretrained(p, num_labels=5).eval()
ids=torch.randint(5,20000,(32,128)); mask=torch.ones_like(ids)
print(torch.get_num_threads())
for name,ctx in (("fp32",None),("bf16",torch.bfloat16),("fp32",None),("bf16",torch.bfloat16)):
    with torch.inference_mode():
        c = torch.autocast("cpu",dtype=ctx) if ctx else torch.autocast("cpu",enabled=False)
        with c:
            m(input_ids=ids[:4],attention_mask=mask[:4])
            t=time.time()
            for _ in range(3): m(input_ids=ids,attention_mask=mask)
            print(name, 96/(time.time()-t), "windows/s", flush=True)
