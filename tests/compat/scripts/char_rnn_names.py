"""The official "NLP From Scratch" tutorials: classifying names with a character-level RNN
written by hand (i2h/h2o Linear layers over torch.cat((input, hidden), 1), LogSoftmax,
NLLLoss, the manual update p.data.add_(p.grad.data, alpha=-learning_rate), topk), and
generating names with a conditional RNN (dropout 0 here, greedy sampling). float64; the
names are a small made-up list and the training order comes from Python's random."""
import random
import string

import numpy as np
import torch
import torch.nn as nn

RESULTS = {}
TOLERANCE = dict(rtol=1e-8, atol=1e-10)

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)
category_lines = {
    "Scottish": ["Mackay", "Macleod", "Fraser", "Stewart", "Campbell", "Murray"],
    "Italian": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"],
    "Japanese": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"],
}
all_categories = list(category_lines)
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def letterToTensor(letter):
    tensor = torch.zeros(1, n_letters, dtype=torch.float64)
    tensor[0][letterToIndex(letter)] = 1
    return tensor


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters, dtype=torch.float64)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.h2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.h2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size, dtype=torch.float64)


def numpy_weights(model, seed):
    g = np.random.default_rng(seed)
    for p in model.parameters():
        p.data.copy_(torch.from_numpy(g.uniform(-0.1, 0.1, size=tuple(p.shape))))


n_hidden = 32
rnn = RNN(n_letters, n_hidden, n_categories).double()
numpy_weights(rnn, 0)


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]


def randomTrainingExample():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    return category, line, category_tensor, line_tensor


criterion = nn.NLLLoss()
learning_rate = 0.005


def train(category_tensor, line_tensor):
    hidden = rnn.initHidden()
    rnn.zero_grad()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


random.seed(0)
losses, guesses = [], []
for iter in range(1, 121):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    output, loss = train(category_tensor, line_tensor)
    losses.append(loss)
    guess, guess_i = categoryFromOutput(output)
    guesses.append(guess)
RESULTS["classify_losses"] = losses
RESULTS["guesses"] = guesses


def evaluate(line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


with torch.no_grad():
    output = evaluate(lineToTensor("Satoh"))
    topv, topi = output.topk(3, 1, True)
    RESULTS["predict"] = [topv[0].tolist(), topi[0].tolist()]


# -- generating names ------------------------------------------------------------------------
class GenRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(GenRNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.0)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size, dtype=torch.float64)


n_out = n_letters + 1      # + EOS


def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories, dtype=torch.float64)
    tensor[0][li] = 1
    return tensor


def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters)
    return torch.LongTensor(letter_indexes)


gen = GenRNN(n_letters, 24, n_out).double()
numpy_weights(gen, 1)
optimizer = torch.optim.SGD(gen.parameters(), lr=0.05)
gen_losses = []
for it in range(40):
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    category_tensor, input_line_tensor = categoryTensor(category), lineToTensor(line)
    target_line_tensor = targetTensor(line).unsqueeze_(-1)
    hidden = gen.initHidden()
    gen.zero_grad()
    loss = torch.Tensor([0]).double()
    for i in range(input_line_tensor.size(0)):
        output, hidden = gen(category_tensor, input_line_tensor[i], hidden)
        loss += criterion(output, target_line_tensor[i])
    loss.backward()
    optimizer.step()
    gen_losses.append(loss.item() / input_line_tensor.size(0))
RESULTS["generate_losses"] = gen_losses


def sample(category, start_letter='A', max_length=8):
    with torch.no_grad():
        category_tensor = categoryTensor(category)
        input = lineToTensor(start_letter)
        hidden = gen.initHidden()
        output_name = start_letter
        for i in range(max_length):
            output, hidden = gen(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = lineToTensor(letter)
        return output_name


RESULTS["samples"] = [sample(c, s) for c in all_categories for s in "RS"]
