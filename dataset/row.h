// One dataset row, in either format seer reads:
//   R1-V / VLM-R1 style (RL):   {"image": ..., "problem": ..., "solution" | "answer": ..., "answer_type"?, "options"?, "id"?}
//   LLaVA conversations (SFT):  {"image": ..., "conversations": [{"from": "human", "value": "<image>\n..."},
//                                                              {"from": "gpt", "value": "..."}], "id"?}
// "image" is one path or a list of paths (several images per row). In a conversation each image has its
// "<image>" tag, in order; an RL question either marks every image with "<image>" or none (then the images
// come before the question text, as in a one-image row).
#pragma once

#include <string>
#include <vector>

namespace seer::dataset {

struct Turn {
  std::string role;     ///< "user" (from: human) or "assistant" (from: gpt)
  std::string content;  ///< the value; "<image>" marks where the image goes
};

struct Row {
  std::string id;                     ///< the row's "id", or "<file>:<line>"
  int line = 0;                       ///< 1-based line in the JSONL file
  std::vector<std::string> images;    ///< resolved image paths in prompt order; empty = text-only row
  std::string question;               ///< RL rows
  std::string answer;                 ///< RL rows: the gold answer as written
  std::string answer_type;            ///< auto | numeric | math | choice | text | bbox
  std::vector<std::string> options;   ///< choice letters offered
  std::vector<Turn> conversation;     ///< SFT rows
  bool is_conversation() const { return !conversation.empty(); }
};

}  // namespace seer::dataset
